"""Pruebas del generador del conjunto de demostración."""

import hashlib

import keras
import numpy as np
import pytest
from conftest import huellas

from course_utils import config as cfg
from course_utils import datos, demo


def _resumen(raiz):
    return {k: hashlib.sha256(v).hexdigest() for k, v in huellas(raiz).items()}


def test_determinista_byte_a_byte(tmp_path):
    a = demo.generar_demo(tmp_path / "a", imagenes_por_clase=5, tam=48, semilla=3)
    b = demo.generar_demo(tmp_path / "b", imagenes_por_clase=5, tam=48, semilla=3)
    c = demo.generar_demo(tmp_path / "c", imagenes_por_clase=5, tam=48, semilla=4)
    assert _resumen(a) == _resumen(b)
    assert _resumen(a) != _resumen(c)


def test_todas_las_clases_con_su_tamano(tmp_path):
    raiz = demo.generar_demo(tmp_path / "d", imagenes_por_clase=4, tam=40)
    for clase in demo.CLASES_DEMO:
        archivos = sorted((raiz / clase).glob("*.jpg"))
        assert len(archivos) == 4
        assert datos.cargar_imagen(archivos[0], 40).shape == (40, 40, 3)
    assert datos.inspeccionar(raiz, minimo_por_clase=4).utilizable


def test_reutiliza_y_no_toca_carpetas_ajenas(tmp_path):
    raiz = demo.generar_demo(tmp_path / "d", imagenes_por_clase=3, tam=40)
    antes = _resumen(raiz)
    assert demo.generar_demo(raiz, imagenes_por_clase=3, tam=40) == raiz
    ajena = tmp_path / "mis_fotos"
    ajena.mkdir()
    (ajena / "foto.jpg").write_bytes(b"mia")
    with pytest.raises(FileExistsError, match="no borra nada"):
        demo.generar_demo(ajena)
    assert (ajena / "foto.jpg").read_bytes() == b"mia" and _resumen(raiz) == antes
    with pytest.raises(FileExistsError):
        demo.generar_demo(raiz, imagenes_por_clase=5, tam=40)


def test_una_cnn_pequena_supera_el_azar(tmp_path):
    raiz = demo.generar_demo(tmp_path / "d", imagenes_por_clase=45, tam=64)
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("completo"))
    keras.utils.set_random_seed(0)
    modelo = keras.Sequential(
        [
            keras.Input((64, 64, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    modelo.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    tr, val, te = conjunto.datasets(64, 16)
    modelo.fit(tr.concatenate(val), epochs=12, verbose=0, shuffle=False)
    exactitud = modelo.evaluate(te, verbose=0, return_dict=True)["accuracy"]
    print(f"exactitud de la CNN pequeña en la demo: {exactitud:.2f} (azar: 0.25)")
    assert exactitud > 0.45 and np.isfinite(exactitud)
