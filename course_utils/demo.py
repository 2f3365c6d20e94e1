"""Conjunto sintético de frutas, determinista, para que el curso funcione sin red ni copias locales.

No sustituye a las fotos reales: existe solo para que los cuadernos y las pruebas se ejecuten
en cualquier máquina. Las cifras de las lecciones salen de tf_flowers.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASES_DEMO = ("limones", "manzanas", "naranjas", "platanos")
VERSION_DEMO = 1
_COLORES = {
    "limones": [(235, 220, 60), (210, 200, 40), (200, 215, 70)],
    "manzanas": [(190, 30, 35), (120, 180, 50), (215, 170, 50)],
    "naranjas": [(240, 140, 30), (225, 115, 20), (245, 165, 55)],
    "platanos": [(240, 215, 70), (200, 190, 60), (230, 200, 90)],
}


def _marcador(imagenes_por_clase: int, tam: int, semilla: int) -> str:
    return (
        "Conjunto SINTÉTICO de frutas generado por course_utils.demo.\n"
        "Solo existe para que el curso se ejecute sin red ni fotos reales; "
        "las cifras de las lecciones salen de tf_flowers.\n"
        f"version={VERSION_DEMO} semilla={semilla} tam={tam} imagenes_por_clase={imagenes_por_clase}\n"
    )


def _fondo(rng: np.random.Generator, tam: int) -> Image.Image:
    """Fondo con degradado, rayas o ruido y formas de distracción."""
    a, b = rng.integers(40, 230, 3), rng.integers(40, 230, 3)
    t = np.linspace(0, 1, tam)[None, :, None] if rng.random() < 0.5 else np.linspace(0, 1, tam)[:, None, None]
    arr = a * (1 - t) + b * t + np.zeros((tam, tam, 3))
    if rng.random() < 0.4:
        periodo = int(rng.integers(6, 20))
        arr[(np.arange(tam) // periodo % 2 == 0), :] *= 0.8
    arr += rng.normal(0, rng.uniform(3, 18), arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    dibujo = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(0, 5))):
        x, y, r = (int(v) for v in rng.integers(0, tam, 2).tolist() + [rng.integers(4, tam // 5)])
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        forma = dibujo.ellipse if rng.random() < 0.5 else dibujo.rectangle
        forma([x - r, y - r, x + r, y + r], fill=color)
    return img


def _color(rng: np.random.Generator, clase: str) -> tuple[int, int, int]:
    base = np.array(_COLORES[clase][int(rng.integers(0, len(_COLORES[clase])))], dtype=float)
    return tuple(int(c) for c in np.clip(base + rng.normal(0, 18, 3), 0, 255))


def _fruta(rng: np.random.Generator, clase: str, lado: int) -> Image.Image:
    """Dibuja la fruta en una capa RGBA cuadrada de `lado` px."""
    capa = Image.new("RGBA", (lado, lado), (0, 0, 0, 0))
    d = ImageDraw.Draw(capa)
    color = _color(rng, clase)
    m = lado // 8
    if clase == "manzanas":
        d.ellipse([m, int(1.6 * m), lado - m, lado - m], fill=color)
        d.ellipse([lado // 2 - 2 * m, int(1.2 * m), lado // 2 + 2 * m, 3 * m], fill=color)
        d.line([lado // 2, 2 * m, lado // 2 + m // 2, m // 2], fill=(90, 60, 20), width=max(2, m // 3))
        d.ellipse([lado // 2 + m // 2, m // 2, lado // 2 + 2 * m, int(1.4 * m)], fill=(60, 150, 40))
    elif clase == "naranjas":
        d.ellipse([m, m, lado - m, lado - m], fill=color)
        for _ in range(40):
            x, y = rng.integers(2 * m, lado - 2 * m, 2)
            oscuro = tuple(max(0, c - 35) for c in color)
            d.point([(int(x), int(y)), (int(x) + 1, int(y))], fill=oscuro)
    elif clase == "limones":
        d.ellipse([m, int(2.2 * m), lado - m, lado - int(2.2 * m)], fill=color)
        d.polygon([(m // 2, lado // 2), (int(1.6 * m), lado // 2 - m), (int(1.6 * m), lado // 2 + m)], fill=color)
        d.polygon(
            [(lado - m // 2, lado // 2), (lado - int(1.6 * m), lado // 2 - m), (lado - int(1.6 * m), lado // 2 + m)],
            fill=color,
        )
    else:
        grosor = int(rng.integers(int(1.2 * m), 2 * m))
        d.arc([m, m, lado - m, lado - m], 20, 160, fill=color, width=grosor)
        d.ellipse([lado - 3 * m, lado // 2 + m, lado - 2 * m, lado // 2 + 2 * m], fill=(90, 70, 30))
    return capa


def _imagen(semilla: int, indice_clase: int, indice: int, clase: str, tam: int) -> bytes:
    """Genera los bytes JPEG de una imagen; depende solo de (semilla, clase, índice)."""
    rng = np.random.default_rng([semilla, indice_clase, indice, VERSION_DEMO])
    img = _fondo(rng, tam)
    lado = int(tam * rng.uniform(0.45, 0.85))
    fruta = _fruta(rng, clase, lado).rotate(float(rng.uniform(-180, 180)), resample=Image.BILINEAR)
    x, y = (int(v) for v in rng.integers(-lado // 6, tam - lado + lado // 6 + 1, 2))
    sombra = Image.new("RGBA", fruta.size, (0, 0, 0, 110))
    sombra.putalpha(fruta.getchannel("A").point(lambda a: a * 110 // 255))
    img.paste(sombra.filter(ImageFilter.GaussianBlur(lado // 12)), (x + lado // 12, y + lado // 10), sombra)
    img.paste(fruta, (x, y), fruta)
    arr = np.asarray(img, dtype=float)
    luz = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(1.0, 1.3), tam)
    arr = arr * (luz[None, :, None] if rng.random() < 0.5 else luz[:, None, None])
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        d = ImageDraw.Draw(img)
        x0, y0 = (int(v) for v in rng.integers(0, tam * 3 // 4, 2))
        d.rectangle([x0, y0, x0 + tam // 4, y0 + tam // 4], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    salida = io.BytesIO()
    img.save(salida, format="JPEG", quality=int(rng.integers(40, 90)))
    return salida.getvalue()


def generar_demo(destino: str | Path, imagenes_por_clase: int = 60, tam: int = 128, semilla: int = 0) -> Path:
    """Genera el conjunto de demostración `destino/<clase>/*.jpg` o reutiliza uno idéntico.

    Nunca borra ni sobrescribe archivos ajenos: escribe en una carpeta temporal y la renombra al final.
    """
    destino = Path(destino)
    marcador = _marcador(imagenes_por_clase, tam, semilla)
    if destino.exists():
        leido = (destino / "DEMO.txt").read_text(encoding="utf-8") if (destino / "DEMO.txt").is_file() else None
        if leido == marcador:
            return destino
        raise FileExistsError(
            f"La carpeta {destino} ya existe y no es un conjunto de demostración con estos ajustes. "
            "El curso no borra nada: elige otra carpeta de destino o muévela tú."
        )
    destino.parent.mkdir(parents=True, exist_ok=True)
    temporal = Path(tempfile.mkdtemp(prefix=".demo_", dir=destino.parent))
    try:
        for i, clase in enumerate(CLASES_DEMO):
            (temporal / clase).mkdir()
            for j in range(imagenes_por_clase):
                (temporal / clase / f"{clase}_{j:04d}.jpg").write_bytes(_imagen(semilla, i, j, clase, tam))
        (temporal / "DEMO.txt").write_text(marcador, encoding="utf-8")
        os.replace(temporal, destino)
    finally:
        shutil.rmtree(temporal, ignore_errors=True)
    return destino
