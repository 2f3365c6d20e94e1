"""Pruebas de los paneles interactivos: se manejan desde Python cambiando el valor de sus controles."""

import datetime as dt
import json
import sys
import types

import keras
import numpy as np
import pytest
from conftest import carpeta_clases, crear_imagen

import course_utils
from course_utils import exportacion, widgets
from course_utils import panel as panel_comun

PNG = b"\x89PNG"


def registro(arquitectura, estrategia, exactitud, segundos, etiqueta="", fecha="2026-01-01T00:00:00", **extra):
    """Un registro como los de entrenar_y_evaluar, con solo los campos que leen los paneles."""
    return {
        "arquitectura": arquitectura,
        "estrategia": estrategia,
        "etiqueta": etiqueta,
        "test_accuracy": exactitud,
        "val_accuracy": exactitud - 0.05,
        "segundos_total": segundos,
        "parametros_entrenables": 1000,
        "imagenes_prueba": 100,
        "imagenes_por_clase": 12,
        "semilla": 42,
        "pesos": "local",
        "modo": "rapido",
        "fecha": fecha,
        **extra,
    }


REGISTROS = [
    registro("vgg16", "extraccion", 0.80, 30.0),
    registro("vgg16", "fine_tuning", 0.85, 90.0),
    registro("mobilenet_v2", "extraccion", 0.70, 5.0, pesos="aleatorios"),
    registro("cnn_desde_cero", "desde_cero", 0.40, 12.0, pesos="aleatorios"),
]


def lineas_tabla(panel):
    """Las filas de datos de la tabla de texto del panel (sin la cabecera)."""
    return panel.texto.value.split("\n")[1:]


# --- Comparador de resultados ------------------------------------------------------------------------------


def test_comparador_ordena_por_la_metrica_elegida(capsys):
    panel = widgets.comparador_resultados(REGISTROS)
    assert "VGG16 · ajuste fino" in lineas_tabla(panel)[0]  # mayor exactitud arriba
    assert bytes(panel.imagen.value).startswith(PNG)
    antes = bytes(panel.imagen.value)
    panel.controles["metrica"].value = "tiempo de entrenamiento (s)"
    assert "MobileNetV2 · extracción" in lineas_tabla(panel)[0]  # menor tiempo arriba
    assert bytes(panel.imagen.value) != antes
    salida = capsys.readouterr().out
    assert "solo orientativos" in salida and "VGG16 · ajuste fino" in salida  # resumen en texto plano


def test_comparador_filtra_por_estrategia_y_red():
    panel = widgets.comparador_resultados(REGISTROS)
    panel.controles["estrategia"].value = "extraccion"
    assert len(lineas_tabla(panel)) == 2 and all("extracción" in linea for linea in lineas_tabla(panel))
    panel.controles["red"].value = "vgg16"
    assert len(lineas_tabla(panel)) == 1 and "VGG16" in lineas_tabla(panel)[0]
    panel.controles["red"].value = "cnn_desde_cero"
    assert "Ningún registro" in panel.texto.value and bytes(panel.imagen.value) == b""


def test_comparador_marca_los_pesos_aleatorios():
    panel = widgets.comparador_resultados(REGISTROS)
    fila = next(linea for linea in lineas_tabla(panel) if "MobileNetV2" in linea)
    assert "ALEATORIOS" in fila


def test_comparador_sin_registros_explica_como_conseguirlos(capsys):
    panel = widgets.comparador_resultados([])
    assert "No hay registros" in panel.texto.value and not panel.controles
    assert "experimentos" in capsys.readouterr().out


def test_el_panel_se_muestra_una_sola_vez(monkeypatch):
    publicados = []
    anotar = lambda *args, **kwargs: publicados.append((args, kwargs))  # noqa: E731
    monkeypatch.setattr(widgets, "display", anotar)
    monkeypatch.setattr(panel_comun, "display", anotar)  # Panel se muestra desde course_utils.panel
    panel = widgets.comparador_resultados(REGISTROS)
    panel._ipython_display_()
    panel._ipython_display_()  # la última expresión de la celda no lo repite
    crudos = [args[0] for args, kwargs in publicados if kwargs.get("raw")]
    assert len(crudos) == 1 and "application/vnd.jupyter.widget-view+json" in crudos[0]
    assert "panel interactivo" in crudos[0]["text/plain"]


# --- ¿Cuántos bloques descongelar? --------------------------------------------------------------------------

BARRIDO = [
    registro("vgg16", "fine_tuning", 0.60, 10.0, etiqueta="descongelar_0"),
    registro("vgg16", "fine_tuning", 0.90, 20.0, etiqueta="descongelar_2"),
    registro("vgg16", "fine_tuning", 0.62, 30.0, etiqueta="descongelar_4"),
    registro("vgg16", "fine_tuning", 0.10, 5.0, etiqueta="descongelar_2", fecha="2025-01-01T00:00:00"),  # antiguo
    registro("mobilenet_v2", "fine_tuning", 0.5, 8.0, etiqueta="descongelar_1"),
    registro("mobilenet_v2", "fine_tuning", 0.7, 9.0, etiqueta="descongelar_3"),
    registro("vgg16", "extraccion", 0.99, 1.0),  # sin etiqueta de barrido: no cuenta
]


def test_descongelar_el_deslizador_cambia_el_resultado():
    panel = widgets.control_descongelar(BARRIDO)
    deslizador = panel.controles["bloques"]
    assert panel.controles["red"].value == "mobilenet_v2" and [int(o) for o in deslizador.options] == [1, 3]
    panel.controles["red"].value = "vgg16"
    assert [int(o) for o in deslizador.options] == [0, 2, 4]
    deslizador.value = 2
    assert "con 2 bloque(s)" in panel.texto.value and "0,900" in panel.texto.value  # el registro más reciente
    assert "mejora" in panel.texto.value
    imagen_2 = bytes(panel.imagen.value)
    deslizador.value = 4
    assert "con 4 bloque(s)" in panel.texto.value and "margen de error" in panel.texto.value
    assert bytes(panel.imagen.value).startswith(PNG) and bytes(panel.imagen.value) != imagen_2


def test_descongelar_cambiar_de_red_cambia_las_opciones():
    panel = widgets.control_descongelar(BARRIDO)
    panel.controles["red"].value = "vgg16"
    panel.controles["red"].value = "mobilenet_v2"
    assert [int(o) for o in panel.controles["bloques"].options] == [1, 3]
    assert "MobileNetV2" in panel.texto.value and "No se pudo" not in panel.texto.value


def test_descongelar_sin_barrido_dice_que_cuaderno_lo_produce(capsys):
    panel = widgets.control_descongelar(REGISTROS)
    assert "cuaderno 05" in panel.texto.value and "descongelar_" in capsys.readouterr().out


def test_barrido_descongelar_agrupa_por_red_y_bloques():
    barrido = widgets.barrido_descongelar(BARRIDO)
    assert sorted(barrido) == ["mobilenet_v2", "vgg16"]
    assert sorted(barrido["vgg16"]) == [0, 2, 4] and barrido["vgg16"][2]["test_accuracy"] == 0.90


# --- Explorador de predicciones ----------------------------------------------------------------------------

CLASES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def modelo_diminuto():
    keras.utils.set_random_seed(0)
    modelo = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(len(CLASES), activation="softmax"),
        ]
    )
    return modelo


@pytest.fixture
def rutas(tmp_path):
    raiz = carpeta_clases(tmp_path / "imagenes", {c: 1 for c in CLASES}, tam=(20, 20))
    return sorted(raiz.rglob("*.png"))


@pytest.fixture
def gradcam_falso(monkeypatch):
    """Un módulo gradcam mínimo con el contrato acordado, por si el real no está o para aislar la prueba."""
    llamadas = []

    def mapa_gradcam(modelo, x, indice_clase=None, capa=None):
        llamadas.append(x)
        probs = np.asarray(modelo.predict(x[None], verbose=0))[0]
        return np.full(x.shape[:2], 0.5, dtype="float32"), int(np.argmax(probs)), probs

    def superponer(imagen_uint8, mapa, alfa=0.45):
        return (imagen_uint8 * (1 - alfa)).astype("uint8")

    falso = types.SimpleNamespace(mapa_gradcam=mapa_gradcam, superponer=superponer, llamadas=llamadas)
    monkeypatch.setitem(sys.modules, "course_utils.gradcam", falso)
    monkeypatch.setattr(course_utils, "gradcam", falso, raising=False)
    return falso


def test_explorador_muestra_prediccion_y_gradcam(modelo_diminuto, rutas, gradcam_falso, capsys):
    panel = widgets.explorador_predicciones(modelo_diminuto, rutas, CLASES, lambda x: x / 255.0, 16)
    assert "a/img_0.png: predicción" in panel.texto.value and "no disponible" not in panel.texto.value
    assert gradcam_falso.llamadas[-1].shape == (16, 16, 3) and gradcam_falso.llamadas[-1].max() <= 1.0
    assert bytes(panel.imagen.value).startswith(PNG)
    panel.controles["imagen"].value = 2
    assert "c/img_0.png" in panel.texto.value and len(gradcam_falso.llamadas) == 2
    assert "predicción" in capsys.readouterr().out


def test_explorador_sin_gradcam_solo_predice(modelo_diminuto, rutas, gradcam_falso):
    panel = widgets.explorador_predicciones(modelo_diminuto, rutas, CLASES, None, 16)
    panel.controles["gradcam"].value = False
    assert len(gradcam_falso.llamadas) == 1 and "predicción" in panel.texto.value


def test_explorador_sigue_si_gradcam_falla(modelo_diminuto, rutas, monkeypatch):
    def falla(*args, **kwargs):
        raise ValueError("sin capa convolucional")

    roto = types.SimpleNamespace(mapa_gradcam=falla, superponer=falla)
    monkeypatch.setitem(sys.modules, "course_utils.gradcam", roto)
    monkeypatch.setattr(course_utils, "gradcam", roto, raising=False)
    panel = widgets.explorador_predicciones(modelo_diminuto, rutas, CLASES, None, 16)
    assert "Grad-CAM no disponible" in panel.texto.value and "predicción" in panel.texto.value


def test_explorador_con_el_gradcam_real(modelo_diminuto, rutas):
    panel = widgets.explorador_predicciones(modelo_diminuto, rutas, CLASES, None, 16)
    assert "predicción" in panel.texto.value and "no disponible" not in panel.texto.value


def test_explorador_sin_imagenes_no_falla():
    panel = widgets.explorador_predicciones(None, [], CLASES, None, 16)
    assert "No hay imágenes" in panel.texto.value


# --- Subir una imagen y predecir ---------------------------------------------------------------------------


def subida(ruta_o_bytes, nombre="foto.png"):
    contenido = ruta_o_bytes if isinstance(ruta_o_bytes, bytes) else ruta_o_bytes.read_bytes()
    return (
        {
            "name": nombre,
            "type": "image/png",
            "size": len(contenido),
            "content": memoryview(contenido),
            "last_modified": dt.datetime.now(dt.UTC),
        },
    )


@pytest.fixture
def exportacion_falsa(monkeypatch):
    recibidas = []

    def predecir_imagen(modelo, metadatos, imagen_uint8):
        recibidas.append(imagen_uint8)
        probs = {"a": 0.1, "b": 0.7, "c": 0.2}
        return {"archivo": None, "clase": "b", "probabilidad": 0.7, "probabilidades": probs}

    falsa = types.SimpleNamespace(predecir_imagen=predecir_imagen, recibidas=recibidas)
    monkeypatch.setitem(sys.modules, "course_utils.exportacion", falsa)
    monkeypatch.setattr(course_utils, "exportacion", falsa, raising=False)
    return falsa


METADATOS = {"clases": CLASES, "arquitectura": "cnn_desde_cero", "tam": 16, "estrategia": "desde_cero"}


def test_subir_una_imagen_muestra_la_prediccion(tmp_path, exportacion_falsa, capsys):
    panel = widgets.subir_y_predecir((object(), METADATOS))
    assert "Sube una imagen" in panel.texto.value and "cnn_desde_cero" in capsys.readouterr().out
    panel.controles["subida"].value = subida(crear_imagen(tmp_path / "x.png", (30, 20)))
    assert "foto.png: «b» con p = 0,70" in panel.texto.value
    assert exportacion_falsa.recibidas[-1].shape == (20, 30, 3) and bytes(panel.imagen.value).startswith(PNG)


def test_subir_algo_que_no_es_una_imagen(exportacion_falsa):
    panel = widgets.subir_y_predecir((object(), METADATOS))
    panel.controles["subida"].value = subida(b"esto no es una imagen", "notas.txt")
    assert "notas.txt no se puede leer como imagen" in panel.texto.value and not exportacion_falsa.recibidas


@pytest.mark.parametrize("entrada", ["no_existe.keras", object()])
def test_subir_sin_modelo_valido_explica_el_motivo(tmp_path, entrada):
    if isinstance(entrada, str):
        entrada = tmp_path / entrada
    panel = widgets.subir_y_predecir(entrada)
    assert "No se puede preparar el panel" in panel.texto.value and not panel.controles


def test_subir_con_un_modelo_exportado_de_verdad(tmp_path, modelo_diminuto):
    ruta = exportacion.exportar(
        modelo_diminuto,
        tmp_path / "m.keras",
        clases=CLASES,
        arquitectura="cnn_desde_cero",
        tam=16,
        estrategia="desde_cero",
    )
    panel = widgets.subir_y_predecir(ruta)
    panel.controles["subida"].value = subida(crear_imagen(tmp_path / "y.png", (16, 16)))
    assert "foto.png: «" in panel.texto.value and bytes(panel.imagen.value).startswith(PNG)


# --- Mapa del curso -----------------------------------------------------------------------------------------


def cuaderno_falso(ruta, titulo, objetivos):
    celdas = [
        {"cell_type": "markdown", "metadata": {}, "source": [f"# {titulo}\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["## Objetivos\n", "\n", *objetivos]},
    ]
    ruta.write_text(json.dumps({"cells": celdas, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture
def curso_falso(tmp_path):
    carpeta = tmp_path / "notebooks"
    carpeta.mkdir()
    cuaderno_falso(carpeta / "00_uno.ipynb", "00 · Uno", ["- Aprender **esto**\n", "  y más.\n", "- Y `aquello`.\n"])
    cuaderno_falso(carpeta / "01_dos.ipynb", "01 · Dos", ["- Otra cosa.\n"])
    (tmp_path / "README.md").write_text(
        "## Temario\n\n| cuaderno | objetivo | rápido | clase | completo |\n|---|---|---|---|---|\n"
        "| `00_uno` | x | 5 s | ~1 min | GPU |\n\nOtro texto | con barra\n"
    )
    return carpeta


def test_mapa_del_curso_cambia_al_elegir_cuaderno(curso_falso, capsys):
    panel = widgets.mapa_del_curso(curso_falso)
    opciones = [etiqueta for etiqueta, _ in panel.controles["cuaderno"].options]
    assert opciones == ["00 · Uno", "01 · Dos"]
    assert "<b>esto</b> y más." in panel.texto.value and "<code>aquello</code>" in panel.texto.value
    assert "rápido: 5 s" in panel.texto.value and "clase: ~1 min" in panel.texto.value
    panel.controles["cuaderno"].value = 1
    assert "Otra cosa." in panel.texto.value and "rápido: ver README" in panel.texto.value
    salida = capsys.readouterr().out
    assert "00_uno" in salida and "01_dos" in salida and "ver README" in salida


def test_mapa_del_curso_del_repositorio_lista_todos_los_cuadernos():
    from course_utils import ejecucion

    panel = widgets.mapa_del_curso()
    assert len(panel.controles["cuaderno"].options) == len(ejecucion.listar_cuadernos())
    assert "<li>" in panel.texto.value and "Bienvenida" in panel.texto.value


def test_mapa_del_curso_sin_cuadernos(tmp_path):
    panel = widgets.mapa_del_curso(tmp_path)
    assert "No hay cuadernos" in panel.texto.value
