"""Pruebas del registro de resultados y de entrenar_y_evaluar con un modelo diminuto."""

import json

import keras
import pytest
from conftest import carpeta_clases

from course_utils import config as cfg
from course_utils import datos, entrenamiento, registros


def test_anadir_y_leer_con_filtros(tmp_path):
    registros.anadir({"modo": "rapido", "arquitectura": "a", "fecha": "1"}, tmp_path)
    registros.anadir({"modo": "clase", "arquitectura": "a", "fecha": "2"}, tmp_path)
    assert [r["fecha"] for r in registros.leer(tmp_path, modo="clase")] == ["2"]


def test_linea_interrumpida_no_corrompe_el_archivo(tmp_path):
    registros.anadir({"modo": "rapido", "n": 1}, tmp_path)
    with open(registros.ruta_registros(tmp_path), "a") as f:
        f.write('{"modo": "rapido", "n": ')
    with pytest.warns(UserWarning, match="línea"):
        leidos = registros.leer(tmp_path)
    assert leidos == [{"modo": "rapido", "n": 1}]


def test_media_linea_final_se_repara_antes_de_anadir(tmp_path):
    """Una ejecución interrumpida deja media línea sin salto final: el registro siguiente no se pega a ella."""
    registros.anadir({"modo": "rapido", "n": 1}, tmp_path)
    ruta = registros.ruta_registros(tmp_path)
    with open(ruta, "a", encoding="utf-8") as f:
        f.write('{"modo": "rapido", "n": 2, "arquitec')
    with pytest.warns(UserWarning, match="línea incompleta"):
        registros.anadir({"modo": "rapido", "n": 3}, tmp_path)
    assert ruta.read_bytes().endswith(b'{"modo": "rapido", "n": 3}\n')
    with pytest.warns(UserWarning, match="1 línea"):
        leidos = registros.leer(tmp_path)
    assert [r["n"] for r in leidos] == [1, 3]


def test_anadir_a_un_archivo_sano_no_avisa(tmp_path, recwarn):
    registros.anadir({"n": 1}, tmp_path)
    registros.anadir({"n": 2}, tmp_path)
    assert not recwarn.list
    assert [r["n"] for r in registros.leer(tmp_path)] == [1, 2]


def test_ultimos_por_clave_no_mezcla_ejecuciones():
    filas = [
        {"arquitectura": "v", "estrategia": "e", "imagenes_por_clase": 5, "semilla": 1, "fecha": "1", "ejecucion": "A"},
        {"arquitectura": "v", "estrategia": "e", "imagenes_por_clase": 5, "semilla": 1, "fecha": "2", "ejecucion": "B"},
        {"arquitectura": "v", "estrategia": "e", "imagenes_por_clase": 9, "semilla": 1, "fecha": "0", "ejecucion": "A"},
    ]
    assert sorted(r["ejecucion"] + r["fecha"] for r in registros.ultimos_por_clave(filas)) == ["A0", "B2"]


def test_entrenar_y_evaluar_registra_todo(entorno_limpio):
    config = cfg.obtener_config("rapido", epocas=2)
    conjunto = datos.cargar_carpeta(carpeta_clases(entorno_limpio / "img", {"a": 12, "b": 12}), config)
    entrada = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(entrada)
    x = keras.layers.GlobalAveragePooling2D()(x)
    modelo = keras.Model(entrada, keras.layers.Dense(2, activation="softmax")(x))
    entrenamiento.compilar(modelo)
    fase1 = entrenamiento.entrenar(modelo, *conjunto.datasets(16, 8)[:2], epocas=1)
    resultado = entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, arquitectura="mini", estrategia="desde_cero", tam=16,
        preprocesado=lambda x: x / 255.0, fase_previa=fase1,
    )  # fmt: skip
    r = resultado.registro
    assert r["epocas"] == 3 and resultado.historial.fronteras == [1]
    assert r["parametros_totales"] == modelo.count_params() and 0 <= r["test_accuracy"] <= 1
    assert r["imagenes_prueba"] == len(conjunto.particiones["prueba"]) and r["mb_modelo"] > 0
    assert r["datos"] == "propios" and r["modo"] == "rapido" and r["memoria_pico_mb"] > 0
    en_disco = [json.loads(linea) for linea in registros.ruta_registros(config.resultados_dir).read_text().splitlines()]
    assert en_disco == [r]
