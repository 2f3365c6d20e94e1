"""Registros de resultados en JSON Lines: añadir sin corromper y leer sin mezclar ejecuciones."""

from __future__ import annotations

import datetime as dt
import json
import os
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


def anadir(registro: dict, resultados_dir: Path) -> Path:
    """Añade un registro como una línea completa, con bloqueo y `fsync`."""
    ruta = ruta_registros(resultados_dir)
    ruta.parent.mkdir(parents=True, exist_ok=True)
    linea = json.dumps(registro, ensure_ascii=False, sort_keys=True) + "\n"
    with open(ruta, "a", encoding="utf-8") as f:
        if fcntl:
            fcntl.flock(f, fcntl.LOCK_EX)
        f.write(linea)
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
