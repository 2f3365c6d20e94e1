"""Utilidades comunes de las pruebas: imágenes diminutas generadas, entorno aislado y bases compartidas."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # antes de importar Keras (y con él TensorFlow)

import keras
import numpy as np
import pytest
from PIL import Image

from course_utils import arquitecturas
from course_utils import config as cfg

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


def tam_prueba(nombre: str) -> int:
    """El lado más pequeño con el que se construye cada red en las pruebas: su mínimo, y al menos 32 px."""
    return max(arquitecturas.obtener(nombre).tam_minimo, 32)


@pytest.fixture(scope="session")
def base_aleatoria():
    """`base_aleatoria(nombre, tam=None)`: la base sin cabeza de `nombre` con pesos aleatorios, una por sesión.

    Construir las siete redes cuesta segundos cada vez; aquí se construyen una sola vez por (red, tamaño), con
    `arquitecturas.cargar_base(nombre, pesos=None, ...)`, y todas las pruebas reciben la MISMA instancia. Por eso
    cada llamada la devuelve con todas sus capas entrenables, como sale de `keras.applications`, aunque otra prueba
    la haya congelado o descongelado. No entrenes ni cambies sus pesos: para eso, construye una base propia.
    `tam` por defecto: `tam_prueba(nombre)`.
    """
    construidas = {}

    def obtener(nombre: str, tam: int | None = None) -> keras.Model:
        nombre, tam = arquitecturas.obtener(nombre).nombre, tam or tam_prueba(nombre)
        if (nombre, tam) not in construidas:
            base, origen = arquitecturas.cargar_base(nombre, pesos=None, tam=tam, config=cfg.obtener_config("rapido"))
            assert origen == "aleatorios"
            construidas[nombre, tam] = base
        base = construidas[nombre, tam]
        base.trainable = True
        for capa in base.layers:
            capa.trainable = True
        return base

    return obtener
