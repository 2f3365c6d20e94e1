"""Pruebas del laboratorio de la cabeza: características aleatorias diminutas y pocas épocas.

Cada control se mueve desde Python, como haría el navegador, y se comprueba que la cabeza se reentrena con ese
ajuste y que cambian el texto y la figura.
"""

import numpy as np
import pytest

from course_utils import laboratorio
from course_utils import panel as panel_comun

PNG = b"\x89PNG"
CLASES = ["margarita", "rosa", "tulipán"]


def cache(n: int, n_val: int, dimension: int, semilla: int = 0):
    """((X_tr, y_tr), (X_val, y_val)) con clases separables a medias, como salen de caracteristicas.extraer."""
    rng = np.random.default_rng(semilla)
    centros = rng.normal(size=(len(CLASES), dimension))
    y, y_val = np.arange(n) % len(CLASES), np.arange(n_val) % len(CLASES)
    x = centros[y] + 2 * rng.normal(size=(n, dimension))
    x_val = centros[y_val] + 2 * rng.normal(size=(n_val, dimension))
    return (x.astype("float32"), y), (x_val.astype("float32"), y_val)


CACHES = {"mobilenet_v2": cache(60, 15, 16), "vgg16": cache(60, 15, 24, semilla=1)}


@pytest.fixture
def panel():
    return laboratorio.laboratorio_cabeza(CACHES, CLASES, epocas=4, lote=16)


def estado(p):
    return p.texto.value, bytes(p.imagen.value), p.entrenamientos


def test_el_panel_arranca_entrenado_y_resume_en_texto(capsys, panel):
    assert panel.entrenamientos == 1 and bytes(panel.imagen.value).startswith(PNG)
    assert len(panel.ultimo["metricas"]["loss"]) == 4 and panel.ultimo["n"] == 60
    salida = capsys.readouterr().out
    assert "MobileNetV2 · todas las imágenes · 4 épocas · tasa 0,001 · dropout 0,2" in salida
    assert "Exactitud de validación:" in salida and "Reentrenada en" in salida and "la prueba no se mira" in salida


@pytest.mark.parametrize(
    "control, valor, comprobar",
    [
        ("red", "vgg16", lambda u: u["ajustes"]["red"] == "vgg16"),
        ("imagenes", 5, lambda u: u["n"] == 5 * len(CLASES)),
        ("epocas", 7, lambda u: len(u["metricas"]["val_loss"]) == 7),
        ("tasa", 1e-2, lambda u: u["ajustes"]["tasa"] == 1e-2),
        ("dropout", 0.5, lambda u: u["ajustes"]["dropout"] == 0.5),
    ],
)
def test_cada_control_reentrena_y_cambia_texto_y_figura(panel, control, valor, comprobar):
    texto, figura, entrenamientos = estado(panel)
    panel.controles[control].value = valor
    assert panel.entrenamientos == entrenamientos + 1 and comprobar(panel.ultimo)
    assert panel.texto.value != texto and "No se pudo" not in panel.texto.value
    assert bytes(panel.imagen.value).startswith(PNG) and bytes(panel.imagen.value) != figura
    assert "Antes:" in panel.texto.value  # el ajuste anterior queda listado debajo


def test_el_texto_dice_el_ajuste_el_tiempo_y_la_red(panel):
    panel.controles["red"].value = "vgg16"
    assert "solo la primera vez" in panel.resumen  # VGG16 con dropout 0,2 se prepara aquí por primera vez
    panel.controles["imagenes"].value = 10
    texto = panel.resumen
    assert texto.startswith("VGG16 · 10 imágenes por clase · 4 épocas")
    assert "30 vectores de entrenamiento, lote de 16" in texto and "solo la primera vez" not in texto
    assert panel.ultimo["segundos"] > 0


def test_los_mismos_ajustes_dan_las_mismas_curvas(panel):
    primeras = panel.ultimo["metricas"]
    panel.controles["tasa"].value = 3e-2
    assert panel.ultimo["metricas"] != primeras
    panel.controles["tasa"].value = 1e-3  # vuelve al ajuste inicial: mismos pesos iniciales, mismo orden y dropout
    for clave, valores in primeras.items():
        np.testing.assert_allclose(panel.ultimo["metricas"][clave], valores, rtol=1e-5, atol=1e-6)


def test_el_grafo_da_las_mismas_curvas_que_fit():
    """Sin dropout y con un solo lote por época (el orden no importa), el bucle en grafo es el `fit` del curso."""
    curvas = {
        motor: laboratorio.Entrenador(laboratorio.preparar_caches(CACHES, 3), 3, lote=64, motor=motor).entrenar(
            "mobilenet_v2", laboratorio.TODAS, 5, 1e-2, 0.0
        )["metricas"]
        for motor in laboratorio.MOTORES
    }
    for clave in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(curvas["grafo"][clave], curvas["fit"][clave], rtol=1e-4, atol=1e-5)


def test_submuestra_estratificada_determinista_y_anidada():
    y = np.array([0] * 10 + [1] * 7 + [2] * 4)
    cinco = laboratorio.submuestra(y, 3, semilla=1)
    assert np.bincount(y[cinco]).tolist() == [3, 3, 3]
    assert np.array_equal(cinco, laboratorio.submuestra(y, 3, semilla=1))
    assert set(cinco) <= set(laboratorio.submuestra(y, 4, semilla=1))  # 4 por clase contiene los 3
    assert len(laboratorio.submuestra(y, laboratorio.TODAS)) == len(y)


def test_las_imagenes_por_clase_ofrecidas_caben_en_todas_las_redes(panel):
    valores = [v for _, v in panel.controles["imagenes"].options]
    assert valores == [1, 2, 5, 10, laboratorio.TODAS]  # 20 por clase, y hacen falta menos de 20


def test_acepta_las_tres_particiones_del_cuaderno_04_e_ignora_la_prueba(capsys):
    entrenamiento, validacion = CACHES["vgg16"]
    prueba = (np.full((5, 24), np.nan, "float32"), np.zeros(5, int))  # si se usara, las curvas serían nan
    panel = laboratorio.laboratorio_cabeza({"vgg16": [entrenamiento, validacion, prueba]}, CLASES, epocas=2)
    assert np.isfinite(panel.ultimo["metricas"]["val_loss"]).all() and panel.ultimo["n_val"] == 15


def test_se_muestra_una_sola_vez(monkeypatch):
    publicados = []
    anotar = lambda *a, **k: publicados.append((a, k))  # noqa: E731
    monkeypatch.setattr(laboratorio, "display", anotar)
    monkeypatch.setattr(panel_comun, "display", anotar)  # Laboratorio se muestra desde course_utils.panel
    panel = laboratorio.laboratorio_cabeza(CACHES, CLASES, epocas=2)
    panel._ipython_display_()
    panel._ipython_display_()
    assert panel.entrenamientos == 1 and "panel interactivo" in repr(panel)
    crudos = [a[0] for a, k in publicados if k.get("raw")]
    assert len(crudos) == 1 and "application/vnd.jupyter.widget-view+json" in crudos[0]


@pytest.mark.parametrize(
    "caches, motivo",
    [
        ({}, "No hay características en caché"),
        ({"vgg16": "no es una caché"}, "no tiene la forma"),
        ({"vgg16": ((np.zeros((4, 8)), np.zeros(3, int)), (np.zeros((2, 8)), np.zeros(2, int)))}, "deben coincidir"),
        ({"vgg16": ((np.zeros((4, 8)), np.zeros(4, int)), (np.zeros((2, 9)), np.zeros(2, int)))}, "un vector por"),
        ({"vgg16": ((np.zeros((4, 8)), np.full(4, 7)), (np.zeros((2, 8)), np.zeros(2, int)))}, "etiquetas de 0 a 7"),
    ],
)
def test_una_cache_que_no_sirve_se_explica_sin_romper(caches, motivo, capsys):
    panel = laboratorio.laboratorio_cabeza(caches, CLASES)
    assert motivo in panel.texto.value and not panel.controles and panel.entrenamientos == 0
    assert "No se puede preparar el laboratorio" in capsys.readouterr().out


def test_un_fallo_al_reentrenar_se_explica_en_el_panel(panel, monkeypatch):
    def falla(*args, **kwargs):
        raise RuntimeError("sin memoria")

    monkeypatch.setattr(laboratorio.Entrenador, "entrenar", falla)
    panel.controles["epocas"].value = 5
    assert "No se pudo reentrenar la cabeza: RuntimeError: sin memoria" in panel.texto.value


def test_motor_desconocido():
    with pytest.raises(ValueError, match="Motor desconocido"):
        laboratorio.Entrenador({}, 3, motor="turbo")
