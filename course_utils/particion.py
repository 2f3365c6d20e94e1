"""Partición estratificada y determinista en entrenamiento, validación y prueba."""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from pathlib import Path

from course_utils.inspeccion import Imagen, nfc

PARTICIONES = ("entrenamiento", "validacion", "prueba")
FRACCIONES = (0.70, 0.15, 0.15)
FRACCION_VALIDACION = 0.15  # la parte de `train/` que pasa a validación cuando solo hay `train/` y `test/`


def clave_orden(texto: str, semilla: int = 0) -> str:
    """Clave pseudoaleatoria pero reproducible para ordenar archivos o grupos.

    El texto se normaliza a NFC (un nombre copiado desde macOS da la misma clave que en Linux o Windows)
    y los bytes que no son UTF-8 se conservan tal cual (`surrogateescape`) en vez de hacer fallar la clave.
    """
    return hashlib.sha1(f"{semilla}:{nfc(texto)}".encode("utf-8", "surrogateescape")).hexdigest()


def _repartir_grupos(grupos: dict[str, list[Imagen]], fracciones, semilla: int, nombres):
    """Asigna grupos enteros (duplicados juntos) a cada partición según las fracciones acumuladas."""
    total = sum(len(g) for g in grupos.values())
    limites = [sum(fracciones[: i + 1]) * total for i in range(len(fracciones))]
    resultado = {n: [] for n in nombres}
    acumulado = 0
    for huella in sorted(grupos, key=lambda h: clave_orden(h, semilla)):
        destino = next(n for n, lim in zip(nombres, limites, strict=True) if acumulado < lim or n == nombres[-1])
        resultado[destino].extend(grupos[huella])
        acumulado += len(grupos[huella])
    return resultado


def _por_clase_y_grupo(imagenes: list[Imagen]) -> dict[str, dict[str, list[Imagen]]]:
    agrupadas: dict[str, dict[str, list[Imagen]]] = defaultdict(lambda: defaultdict(list))
    for img in imagenes:
        agrupadas[img.clase][img.huella].append(img)
    return agrupadas


def particionar(imagenes: list[Imagen], fracciones=FRACCIONES, semilla: int = 0) -> dict[str, list[Imagen]]:
    """Reparte por clase y por grupo de duplicados; respeta una partición dada."""
    dadas = {img.particion for img in imagenes}
    if dadas == {None}:
        return _repartir(imagenes, fracciones, semilla, PARTICIONES)
    resultado = {n: [i for i in imagenes if i.particion == n] for n in PARTICIONES}
    if not resultado["validacion"] and not resultado["prueba"]:
        # Solo train/: validación y prueba salen de train/, con las fracciones de siempre.
        return _repartir(resultado["entrenamiento"], fracciones, semilla, PARTICIONES)
    if not resultado["validacion"]:
        # train/ + test/: la validación sale de train/; test/ se queda entera como prueba.
        partes = (1 - FRACCION_VALIDACION, FRACCION_VALIDACION)
        resultado.update(_repartir(resultado["entrenamiento"], partes, semilla, ("entrenamiento", "validacion")))
    elif not resultado["prueba"]:
        # Estructura de los artículos (solo train/validation): la validación se parte en dos.
        mitades = _repartir(resultado["validacion"], (0.5, 0.5), semilla, ("validacion", "prueba"))
        resultado.update(mitades)
    return resultado


def _repartir(imagenes, fracciones, semilla, nombres):
    resultado = {n: [] for n in nombres}
    for grupos in _por_clase_y_grupo(imagenes).values():
        for nombre, imgs in _repartir_grupos(grupos, fracciones, semilla, nombres).items():
            resultado[nombre].extend(imgs)
    return resultado


def reducir(imagenes: list[Imagen], por_clase: int | None, semilla: int = 0) -> list[Imagen]:
    """Toma las primeras `por_clase` imágenes de cada clase en un orden fijo."""
    if por_clase is None:
        return list(imagenes)
    por_clase_dict: dict[str, list[Imagen]] = defaultdict(list)
    for img in sorted(imagenes, key=lambda i: clave_orden(i.ruta.name, semilla)):
        if len(por_clase_dict[img.clase]) < por_clase:
            por_clase_dict[img.clase].append(img)
    return [img for clase in sorted(por_clase_dict) for img in por_clase_dict[clase]]


def guardar_manifiesto(particiones: dict[str, list[Imagen]], raiz: Path, destino: Path, excluidas=()) -> None:
    """Escribe el manifiesto `archivo,clase,particion` con rutas relativas."""
    filas = [
        (img.ruta.relative_to(raiz).as_posix(), img.clase, nombre)
        for nombre, imgs in particiones.items()
        for img in imgs
    ]
    filas += [(Path(r).relative_to(raiz).as_posix(), Path(r).parent.name, "excluida") for r in excluidas]
    destino.parent.mkdir(parents=True, exist_ok=True)
    with open(destino, "w", newline="", encoding="utf-8") as f:
        escritor = csv.writer(f, lineterminator="\n")
        escritor.writerow(["archivo", "clase", "particion"])
        escritor.writerows(sorted(filas))


def leer_manifiesto(ruta: Path) -> list[tuple[str, str, str]]:
    """Lee el manifiesto de partición como filas `(archivo, clase, particion)`."""
    with open(ruta, encoding="utf-8") as f:
        return [(r["archivo"], r["clase"], r["particion"]) for r in csv.DictReader(f)]
