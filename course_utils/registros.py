"""Registros de resultados en JSON Lines: añadir sin corromper y leer sin mezclar ejecuciones."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import tempfile
import uuid
import warnings
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: sin bloqueo de archivo, la escritura sigue siendo de una sola llamada.
    fcntl = None

NOMBRE_ARCHIVO = "registros.jsonl"
ID_EJECUCION = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def ruta_registros(resultados_dir: Path) -> Path:
    """Ruta del archivo de registros dentro de la carpeta de resultados."""
    return Path(resultados_dir) / NOMBRE_ARCHIVO


class CarpetaNoEscribible(OSError):
    """Una carpeta de salida no se puede escribir; el mensaje nombra la carpeta, el ajuste y el arreglo."""


def comprobar_escribible(carpeta: Path, que: str, arreglo: str) -> None:
    """Comprueba, sin crear nada que se quede, que se podrá escribir en `carpeta` (o donde se creará).

    `que` nombra la carpeta para el usuario («la carpeta de resultados (CURSO_RESULTADOS_DIR)»);
    `arreglo` dice cómo cambiarla. Se prueba a crear un archivo temporal en la carpeta o, si aún
    no existe, en la primera carpeta existente por encima, porque `os.access` no basta (root, ACL,
    discos de solo lectura).
    """
    carpeta = Path(carpeta).expanduser().absolute()
    existente = carpeta
    while not existente.exists() and existente.parent != existente:
        existente = existente.parent
    if not existente.is_dir():
        raise CarpetaNoEscribible(
            f"No se puede usar {carpeta} como {que}: {existente} es un archivo, no una carpeta. {arreglo}"
        )
    try:
        with tempfile.TemporaryFile(dir=existente):
            pass
    except OSError as exc:
        causa = {errno.EACCES: "no tienes permiso de escritura", errno.EPERM: "no tienes permiso de escritura",
                 errno.EROFS: "el disco es de solo lectura", errno.ENOSPC: "no queda espacio en el disco"}.get(
            exc.errno, f"el sistema dice: {exc.strerror or exc}")  # fmt: skip
        raise CarpetaNoEscribible(f"No se puede escribir en {existente} ({que}): {causa}. {arreglo}") from exc


def _reparar_final(f) -> None:
    """Si el archivo acaba en media línea (una ejecución interrumpida), la cierra con un salto de línea."""
    f.seek(0, os.SEEK_END)
    if f.tell() == 0:
        return
    f.seek(-1, os.SEEK_END)
    if f.read(1) != b"\n":
        f.write(b"\n")
        warnings.warn(
            f"{f.name} terminaba en una línea incompleta (¿una ejecución interrumpida?): se cierra con un "
            "salto de línea para que el registro nuevo no se pegue a ella; al leer, esa línea se ignora.",
            stacklevel=3,
        )


def anadir(registro: dict, resultados_dir: Path) -> Path:
    """Añade un registro como una línea completa, con bloqueo y `fsync`; repara antes una media línea final."""
    ruta = ruta_registros(resultados_dir)
    ruta.parent.mkdir(parents=True, exist_ok=True)
    linea = json.dumps(registro, ensure_ascii=False, sort_keys=True) + "\n"
    with open(ruta, "a+b") as f:
        if fcntl:
            fcntl.flock(f, fcntl.LOCK_EX)
        _reparar_final(f)
        f.write(linea.encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    return ruta


def leer(resultados_dir: Path, **filtros) -> list[dict]:
    """Lee los registros válidos que cumplen los filtros; avisa de líneas dañadas."""
    ruta = ruta_registros(resultados_dir)
    if not ruta.exists():
        return []
    registros, danadas = [], 0
    for linea in ruta.read_text(encoding="utf-8").splitlines():
        try:
            registro = json.loads(linea)
        except json.JSONDecodeError:
            danadas += 1
            continue
        if all(registro.get(k) == v for k, v in filtros.items()):
            registros.append(registro)
    if danadas:
        warnings.warn(
            f"{ruta}: se ignoran {danadas} línea(s) incompletas (¿una ejecución interrumpida?).", stacklevel=2
        )
    return registros


def ultimos_por_clave(
    registros: list[dict], claves=("arquitectura", "estrategia", "imagenes_por_clase", "semilla")
) -> list[dict]:
    """Se queda con el registro más reciente de cada combinación de claves."""
    ultimos: dict[tuple, dict] = {}
    for registro in sorted(registros, key=lambda r: r.get("fecha", "")):
        ultimos[tuple(registro.get(k) for k in claves)] = registro
    return list(ultimos.values())
