"""Utilidades comunes de las pruebas: imágenes diminutas generadas y entorno aislado."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PESOS_ORIGINALES = os.environ.get("CURSO_PESOS_DIR")
DATOS_ORIGINALES = os.environ.get("CURSO_DATOS_DIR")


def crear_imagen(ruta: Path, tam=(40, 40), modo="RGB", semilla=0, formato=None) -> Path:
    """Escribe una imagen aleatoria pequeña en `ruta` con el modo de color pedido."""
    ruta.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(semilla)
    rgb = Image.fromarray(rng.integers(0, 255, (tam[1], tam[0], 3), dtype=np.uint8))
    if modo == "I;16":
        img = Image.fromarray(rng.integers(0, 65535, (tam[1], tam[0]), dtype=np.uint16))
    else:
        img = rgb.convert(modo)
    img.save(ruta, format=formato)
    return ruta


def carpeta_clases(raiz: Path, clases: dict[str, int], tam=(40, 40)) -> Path:
    """Crea `raiz/<clase>/img_N.png` con el número de imágenes pedido por clase."""
    for i, (clase, n) in enumerate(sorted(clases.items())):
        for j in range(n):
            crear_imagen(raiz / clase / f"img_{j}.png", tam, semilla=1000 * i + j)
    return raiz


def huellas(raiz: Path) -> dict[str, tuple[int, bytes]]:
    """Contenido de todos los archivos de una carpeta, para comprobar que nada cambia."""
    return {str(p.relative_to(raiz)): p.read_bytes() for p in sorted(raiz.rglob("*")) if p.is_file()}


@pytest.fixture
def entorno_limpio(monkeypatch, tmp_path):
    """Sin variables CURSO_* heredadas: datos, pesos y resultados en carpetas temporales."""
    for var in ("CURSO_MODO", "CURSO_DATOS_DIR", "CURSO_PESOS_DIR", "CURSO_RESULTADOS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CURSO_DATOS_DIR", str(tmp_path / "datos"))
    monkeypatch.setenv("CURSO_RESULTADOS_DIR", str(tmp_path / "resultados"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr("keras.src.backend.config._KERAS_DIR", str(tmp_path / "keras_home"))
    return tmp_path
