"""Pruebas de las medidas de `course_utils.medicion` y de `benchmarks/medir.py` (sin aserciones de tiempo)."""

import importlib.util
import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import carpeta_clases

from course_utils import arquitecturas, datos, medicion
from course_utils import config as cfg

RAIZ = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def medir():
    """El script de benchmarks cargado como módulo (no es un paquete)."""
    spec = importlib.util.spec_from_file_location("medir", RAIZ / "benchmarks" / "medir.py")
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    return modulo


def test_mediana_segundos_descarta_el_calentamiento_y_toma_la_mediana(monkeypatch):
    llamadas = []
    marcas = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])  # duraciones medidas: 1, 3 y 2 s
    monkeypatch.setattr(medicion.time, "perf_counter", lambda: next(marcas))
    resultado = medicion.mediana_segundos(lambda: llamadas.append(1), repeticiones=3, calentamiento=2)
    assert len(llamadas) == 5
    assert resultado == 2.0


@pytest.mark.parametrize("repeticiones, calentamiento", [(0, 1), (2, -1)])
def test_mediana_segundos_rechaza_ajustes_imposibles(repeticiones, calentamiento):
    with pytest.raises(ValueError, match="--repeticiones"):
        medicion.mediana_segundos(lambda: None, repeticiones, calentamiento)


def test_memoria_actual_sube_al_reservar():
    antes = medicion.memoria_actual_mb()
    if antes is None:
        pytest.skip("Este sistema no expone /proc/self/status.")
    bloque = np.ones(200 * 2**20 // 8)  # 200 MB escritos de verdad
    despues = medicion.memoria_actual_mb()
    assert despues - antes > 100
    del bloque


def test_segundos_por_epoca_devuelve_una_medida_por_epoca():
    modelo = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    modelo.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20) % 2
    tiempos = medicion.segundos_por_epoca(modelo, x, y, epocas=3, lote=5)
    assert len(tiempos) == 3 and all(t > 0 for t in tiempos)


def test_describir_maquina_da_el_contexto():
    import tensorflow as tf

    maquina = medicion.describir_maquina()
    assert maquina["nucleos"] == os.cpu_count()
    assert maquina["tensorflow"] == tf.__version__ and maquina["keras"] == keras.__version__
    assert maquina["dispositivo"] in ("CPU", "GPU") and maquina["cpu"]


def test_argumentos_validan_redes_y_repeticiones(medir, capsys):
    args = medir.leer_argumentos(["--modo", "rapido", "--arquitecturas", "VGG16", "--redes-memoria"])
    assert args.arquitecturas == ["vgg16"] and args.redes_memoria == []
    with pytest.raises(SystemExit):
        medir.leer_argumentos(["--arquitecturas", "alexnet"])
    assert "Arquitectura desconocida: 'alexnet'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        medir.leer_argumentos(["--repeticiones", "0"])
    assert "--repeticiones debe ser al menos 1" in capsys.readouterr().err


def test_sin_pesos_mide_con_pesos_aleatorios(medir, monkeypatch, entorno_limpio):
    original = arquitecturas.cargar_base

    def sin_red(nombre, pesos, tam, config):
        if pesos == "imagenet":
            raise arquitecturas.PesosNoDisponibles("sin pesos")
        return original(nombre, pesos, tam, config)

    monkeypatch.setattr(arquitecturas, "cargar_base", sin_red)
    _, origen = medir.cargar_base("squeezenet", 48, cfg.obtener_config("clase"))
    assert origen == "aleatorios"


def test_medir_red_cumple_el_contrato_del_cuaderno_06(medir, monkeypatch, entorno_limpio):
    raiz = carpeta_clases(entorno_limpio / "fotos", {"a": 10, "b": 10}, tam=(48, 48))
    config = cfg.obtener_config("rapido", tam_imagen=48, lote=4)
    conjunto = datos.cargar_carpeta(raiz, config)
    aleatoria = lambda n, t, c: (arquitecturas.cargar_base(n, None, t, c)[0], "aleatorios")  # noqa: E731
    monkeypatch.setattr(medir, "cargar_base", aleatoria)
    monkeypatch.setattr(medir, "MINIMO_S", 0.0)  # un paso por tanda: basta para comprobar el contrato
    cache, rendimiento = medir.medir_red("squeezenet", conjunto, config, repeticiones=1)
    claves = {"extremo_a_extremo_s_epoca", "cabeza_cache_s_epoca", "extraccion_unica_s", "aceleracion", "pesos"}
    claves |= {"extraccion_img_s", "predict_img_s", "eficiencia_extraccion"}
    assert set(cache) == claves and cache["pesos"] == "aleatorios"
    assert all(cache[k] > 0 for k in claves - {"pesos"})
    # La eficiencia es el cociente de los dos rendimientos sobre las mismas imágenes de entrenamiento.
    proporcion = cache["extraccion_img_s"] / cache["predict_img_s"]
    assert cache["eficiencia_extraccion"] == pytest.approx(proporcion, rel=0.05)
    esperada = cache["extremo_a_extremo_s_epoca"] / cache["cabeza_cache_s_epoca"]
    assert cache["aceleracion"] == pytest.approx(esperada, rel=0.05, abs=0.1)
    assert rendimiento["tam"] == 48 and rendimiento["lote"] == 4 and rendimiento["capas_con_pesos_entrenables"] > 0


def _resultados_falsos(modo="rapido"):
    return {
        "maquina": {
            "cpu": "CPU de prueba", "nucleos": 2, "dispositivo": "CPU", "gpu": None, "tensorflow": "x", "keras": "y",
            "python": "3", "fecha": "hoy", "modo": modo, "tam_imagen": 96, "lote": 16, "datos": "flores",
            "imagenes_entrenamiento": 60, "repeticiones": 3, "carga_media_inicio": 1.0, "carga_media_fin": 2.0,
            "duracion_s": 12.0,
        },
        "cache": {"vgg16": {"extremo_a_extremo_s_epoca": 3.0, "cabeza_cache_s_epoca": 0.1, "extraccion_unica_s": 2.5,
                            "aceleracion": 30.0, "pesos": "local"}},
        "rendimiento": {"vgg16": {"inferencia_img_s": 50.0, "entrenamiento_img_s": 20.0, "lote": 16, "tam": 96,
                                  "descongelado_desde": "block5", "capas_con_pesos_entrenables": 3, "pesos": "local"}},
        "memoria": {"vgg16": {"extraccion": {"antes_mb": 900.0, "pico_mb": 1500.0, "gpu_pico_mb": None,
                                             "pesos": "local"},
                              "fine_tuning": {"error": "el proceso hijo terminó con código 1: MemoryError"}}},
    }  # fmt: skip


def test_imagenes_por_segundo_agrupa_pasos_cortos(medir, monkeypatch):
    llamadas = []
    monkeypatch.setattr(medir.medicion, "mediana_segundos", lambda f, r, calentamiento: (f(), 0.1)[1])
    monkeypatch.setattr(medir, "MINIMO_S", 0.5)
    resultado = medir.imagenes_por_segundo(lambda: llamadas.append(1), lote=8, repeticiones=2)
    assert resultado == 8 * 5 / 0.1  # tandas de 5 pasos de 0,1 s
    assert len(llamadas) == 1 + 1 + 5


def test_resumen_markdown_tiene_las_tres_tablas_y_los_errores(medir):
    texto = medir.resumen_markdown(_resultados_falsos())
    assert "| vgg16 | local | 2,50 | 0,100 | 3,00 | ×30 |" in texto, "números a la española"
    assert "| vgg16 | local | 96 | 16 | 50,0 | 20,0 | `block5` |" in texto
    assert "| vgg16 | extraccion | 900 | 1500 | — | local |" in texto
    assert "MemoryError" in texto and "solo orientativas" in texto
    assert "solo orientativas" not in medir.resumen_markdown(_resultados_falsos("clase"))


def test_escribir_guarda_json_y_markdown(medir, tmp_path):
    ruta_json, ruta_md = medir.escribir(_resultados_falsos(), tmp_path)
    assert ruta_json.name == "resultados_rapido.json" and ruta_md.name == "resultados_rapido.md"
    assert json.loads(ruta_json.read_text(encoding="utf-8"))["cache"]["vgg16"]["aceleracion"] == 30.0
