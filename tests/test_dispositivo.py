"""Dispositivo, estrategia, precisión y XLA: la elección con 0, 1 y 2 GPU simuladas y su anuncio.

Las GPU se simulan: `dispositivo.preparar(gpus=...)` o `detectar_gpus` sustituida. La ruta de varias GPU
se prueba de verdad en un proceso aparte con `MirroredStrategy` sobre dos CPU lógicas: modelo y
`compile` dentro de `strategy.scope()`, lote global y un `fit` de las recetas de `estrategias`.
"""

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from course_utils import config as cfg
from course_utils import dispositivo, estrategias
from course_utils.dispositivo import GPU

H200 = GPU("NVIDIA H200", (9, 0))
A100 = GPU("NVIDIA A100-SXM4-40GB", (8, 0))
P100 = GPU("Tesla P100-PCIE-16GB", (6, 0))
SIN_ENTORNO = {}


class EspejoFalso:
    """Hace de `MirroredStrategy` sin GPU: solo cuenta réplicas y ofrece un `scope()`."""

    def __init__(self, replicas=2):
        self.num_replicas_in_sync = replicas
        self.abierto = False

    @contextlib.contextmanager
    def scope(self):
        self.abierto = True
        try:
            yield self
        finally:
            self.abierto = False


@pytest.fixture
def fabrica(monkeypatch):
    """Sustituye la fábrica de MirroredStrategy por una falsa y vacía la caché de estrategias."""
    creadas = []

    def crear():
        creadas.append(EspejoFalso())
        return creadas[-1]

    monkeypatch.setattr(dispositivo, "FABRICA_ESPEJO", crear)
    monkeypatch.setattr(dispositivo, "_ESTRATEGIAS", {})
    return creadas


@pytest.fixture
def sin_variables(monkeypatch):
    for variable in (dispositivo.VARIABLE_PRECISION, dispositivo.VARIABLE_XLA):
        monkeypatch.delenv(variable, raising=False)


# --- Estrategia y réplicas -------------------------------------------------------------------------


def test_sin_gpu_cpu_con_la_estrategia_predeterminada():
    ejec = dispositivo.preparar(32, gpus=[], entorno=SIN_ENTORNO)
    assert (ejec.dispositivo, ejec.replicas, ejec.precision, ejec.jit, ejec.lote_global) == (
        "CPU",
        1,
        "float32",
        False,
        32,
    )
    assert ejec.estrategia is tf.distribute.get_strategy()
    assert ejec.estrategia.num_replicas_in_sync == 1


def test_una_gpu_predeterminada_con_precision_mixta_y_xla():
    ejec = dispositivo.preparar(32, gpus=[H200], entorno=SIN_ENTORNO)
    assert (ejec.replicas, ejec.precision, ejec.jit, ejec.lote_global) == (1, "mixed_float16", True, 32)
    assert ejec.estrategia is tf.distribute.get_strategy()
    assert ejec.dispositivo == "1 GPU (NVIDIA H200, capacidad 9.0)"


def test_dos_gpu_mirrored_con_lote_global_escalado(fabrica):
    ejec = dispositivo.preparar(32, gpus=[A100, A100], entorno=SIN_ENTORNO)
    assert ejec.nombre_estrategia == "MirroredStrategy"
    assert (ejec.replicas, ejec.lote_por_replica, ejec.lote_global) == (2, 32, 64)
    assert ejec.precision == "mixed_float16"
    assert ejec.jit is False  # Keras apaga XLA con tf.distribute; aquí se decide igual
    assert ejec.estrategia is fabrica[0] and ejec.estrategia.num_replicas_in_sync == 2
    otra = dispositivo.preparar(16, gpus=[A100, A100], entorno=SIN_ENTORNO)
    assert otra.estrategia is ejec.estrategia and len(fabrica) == 1  # una sola MirroredStrategy por proceso


def test_el_lote_global_llega_a_la_configuracion(fabrica):
    config = cfg.obtener_config("rapido")
    assert dispositivo.preparar(config.lote, gpus=[], entorno=SIN_ENTORNO).ajustar(config) is config
    ajustada = dispositivo.preparar(config.lote, gpus=[A100, A100], entorno=SIN_ENTORNO).ajustar(config)
    assert ajustada.lote == 2 * config.lote and ajustada.semilla == config.semilla


def test_mirrored_con_otro_numero_de_replicas_falla_en_espanol(monkeypatch):
    monkeypatch.setattr(dispositivo, "FABRICA_ESPEJO", lambda: EspejoFalso(replicas=1))
    monkeypatch.setattr(dispositivo, "_ESTRATEGIAS", {})
    with pytest.raises(RuntimeError, match="réplicas"):
        _ = dispositivo.preparar(32, gpus=[A100, A100], entorno=SIN_ENTORNO).estrategia


def test_preparar_usa_la_deteccion(monkeypatch, fabrica, sin_variables):
    monkeypatch.setattr(dispositivo, "detectar_gpus", lambda: [H200, H200])
    ejec = dispositivo.preparar(8)
    assert (ejec.replicas, ejec.lote_global, ejec.precision) == (2, 16, "mixed_float16")
    monkeypatch.setattr(dispositivo, "detectar_gpus", lambda: [])
    assert dispositivo.preparar(8).replicas == 1


def test_detectar_gpus_lee_nombre_y_capacidad(monkeypatch):
    fisicas = [
        types.SimpleNamespace(name="/physical_device:GPU:0"),
        types.SimpleNamespace(name="/physical_device:GPU:1"),
    ]
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda tipo=None: fisicas if tipo == "GPU" else [])

    def detalles(fisica):
        if fisica is fisicas[1]:
            raise RuntimeError("sin detalles")
        return {"device_name": "NVIDIA H200", "compute_capability": (9, 0)}

    monkeypatch.setattr(tf.config.experimental, "get_device_details", detalles)
    assert dispositivo.detectar_gpus() == [H200, GPU("/physical_device:GPU:1", None)]


# --- Precisión y XLA -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gpus", "esperada"),
    [
        ([], "float32"),
        ([H200], "mixed_float16"),
        ([A100, A100], "mixed_float16"),
        ([P100], "float32"),  # capacidad 6.0: sin núcleos tensor, la precisión mixta no ayuda
        ([A100, P100], "float32"),  # todas las réplicas deben tenerla
        ([GPU("GPU desconocida")], "float32"),
    ],
)
def test_precision_mixta_solo_en_gpu_con_capacidad_7(gpus, esperada):
    assert dispositivo.elegir_precision(gpus, SIN_ENTORNO) == (esperada, "automática")


@pytest.mark.parametrize(("gpus", "esperado"), [([], False), ([P100], True), ([H200, H200], False)])
def test_xla_solo_con_una_gpu(gpus, esperado):
    assert dispositivo.elegir_jit(gpus, SIN_ENTORNO) == (esperado, "automático")


def test_variables_de_entorno_fuerzan_precision_y_xla(monkeypatch):
    monkeypatch.setenv("CURSO_PRECISION", "float32")
    monkeypatch.setenv("CURSO_XLA", "0")
    ejec = dispositivo.preparar(32, gpus=[H200])
    assert (ejec.precision, ejec.origen_precision, ejec.jit, ejec.origen_jit) == (
        "float32",
        "CURSO_PRECISION",
        False,
        "CURSO_XLA",
    )
    monkeypatch.setenv("CURSO_PRECISION", " Mixed_Float16 ")
    monkeypatch.setenv("CURSO_XLA", "1")
    ejec = dispositivo.preparar(32, gpus=[])
    assert (ejec.precision, ejec.jit) == ("mixed_float16", True)  # quien la fuerza en CPU, la tiene
    monkeypatch.setenv("CURSO_PRECISION", "auto")
    monkeypatch.setenv("CURSO_XLA", "")
    ejec = dispositivo.preparar(32, gpus=[H200])
    assert (ejec.precision, ejec.origen_precision, ejec.jit, ejec.origen_jit) == (
        "mixed_float16",
        "automática",
        True,
        "automático",
    )


@pytest.mark.parametrize(
    ("variable", "valor", "texto"),
    [("CURSO_PRECISION", "float16", "float32, mixed_float16 o auto"), ("CURSO_XLA", "quizá", "1 (con XLA)")],
)
def test_variables_no_validas_dan_un_error_en_espanol(variable, valor, texto):
    with pytest.raises(ValueError, match=r"no es válid") as exc:
        dispositivo.preparar(32, gpus=[], entorno={variable: valor})
    assert texto in str(exc.value) and variable in str(exc.value)


def test_ambito_aplica_la_precision_y_la_restaura_con_salida_en_float32():
    ejec = dispositivo.preparar(32, gpus=[H200], entorno=SIN_ENTORNO)
    antes = keras.config.dtype_policy().name
    with ejec.ambito() as estrategia:
        assert estrategia is tf.distribute.get_strategy()
        assert keras.config.dtype_policy().name == "mixed_float16"
        modelo = estrategias.construir_desde_cero(3, 32)
        estrategias.entrenamiento.compilar(modelo, 1e-3, ejec.jit)
    assert keras.config.dtype_policy().name == antes == "float32"
    assert modelo.layers[1].compute_dtype == "float16" and modelo.layers[1].variable_dtype == "float32"
    assert modelo.layers[-1].compute_dtype == "float32" and modelo.output.dtype == "float32"
    assert type(modelo.optimizer).__name__ == "LossScaleOptimizer"  # Keras escala la pérdida con float16
    assert modelo.jit_compile is True  # XLA pedido por la ejecución (una GPU)


def test_en_float32_nada_cambia():
    ejec = dispositivo.preparar(32, gpus=[], entorno=SIN_ENTORNO)
    with ejec.ambito():
        modelo = estrategias.construir_desde_cero(3, 32)
        estrategias.entrenamiento.compilar(modelo, 1e-3, ejec.jit)
    assert {capa.compute_dtype for capa in modelo.layers[1:]} == {"float32"}
    assert type(modelo.optimizer).__name__ == "Adam"


# --- El anuncio ------------------------------------------------------------------------------------


def test_anuncio_en_una_linea(fabrica):
    cpu = dispositivo.anuncio(dispositivo.preparar(32, gpus=[], entorno=SIN_ENTORNO))
    assert cpu == (
        "Dispositivo: CPU · estrategia: la predeterminada de TensorFlow en la CPU (1 réplica) · "
        "precisión: float32 · XLA (jit_compile): no · lote global: 32"
    )
    una = dispositivo.anuncio(dispositivo.preparar(32, gpus=[H200], entorno=SIN_ENTORNO))
    assert una == (
        "Dispositivo: 1 GPU (NVIDIA H200, capacidad 9.0) · estrategia: la predeterminada de TensorFlow en la GPU "
        "(1 réplica) · precisión: mixed_float16 (salida en float32) · XLA (jit_compile): sí · lote global: 32"
    )
    dos = dispositivo.anuncio(dispositivo.preparar(32, gpus=[A100, A100], entorno={"CURSO_PRECISION": "float32"}))
    assert dos == (
        "Dispositivo: 2 GPU (NVIDIA A100-SXM4-40GB, capacidad 8.0) · estrategia: MirroredStrategy (2 réplicas) · "
        "precisión: float32, por CURSO_PRECISION · XLA (jit_compile): no · lote global: 64 (32 por réplica)"
    )
    assert "\n" not in cpu + una + dos


def test_describir_anuncia_dispositivo_y_estrategia_sin_crearla(monkeypatch, sin_variables):
    def no_crear():
        raise AssertionError("describir no debe crear la MirroredStrategy")

    monkeypatch.setattr(dispositivo, "FABRICA_ESPEJO", no_crear)
    monkeypatch.setattr(dispositivo, "_ESTRATEGIAS", {})
    config = cfg.obtener_config("clase")
    monkeypatch.setattr(dispositivo, "detectar_gpus", lambda: [])
    assert "  Dispositivo: CPU · estrategia: la predeterminada de TensorFlow en la CPU" in cfg.describir(config)
    monkeypatch.setattr(dispositivo, "detectar_gpus", lambda: [A100, A100])
    texto = cfg.describir(config)
    assert "MirroredStrategy (2 réplicas)" in texto and f"lote global: {2 * config.lote}" in texto


def test_importar_config_y_dispositivo_no_importa_tensorflow():
    orden = "import sys, course_utils.config, course_utils.dispositivo; print('tensorflow' in sys.modules)"
    salida = subprocess.run([sys.executable, "-c", orden], capture_output=True, text=True, check=True)
    assert salida.stdout.strip() == "False"


def test_extraccion_y_ajuste_fino_construyen_y_compilan_en_el_scope(monkeypatch, fabrica, tmp_path, sin_variables):
    """Con dos GPU simuladas (estrategia falsa): base, cabeza y modelo completo se crean y compilan en el scope.

    Solo se comprueba el cableado: `entrenar_y_evaluar` se sustituye y no entrena (el entrenamiento real con
    MirroredStrategy lo prueba el proceso aparte de abajo).
    """
    from course_utils import arquitecturas, datos, demo, entrenamiento

    abiertos = []  # en cada momento clave: ¿estaba abierto el scope de la estrategia?
    original_base, original_compilar = arquitecturas.cargar_base, entrenamiento.compilar

    def cargar_base(nombre, pesos="imagenet", tam=None, config=None):
        abiertos.append(("base", fabrica[0].abierto))
        return original_base(nombre, None, tam, config)

    def compilar(modelo, tasa=1e-3, jit_compile="auto"):
        abiertos.append((modelo.name, fabrica[0].abierto))
        return original_compilar(modelo, tasa, jit_compile)

    entrenadas = []

    def entrenar_y_evaluar(modelo, conjunto, config, **kw):
        entrenadas.append((modelo.name, config.lote))
        historial = entrenamiento.Historial({"loss": [1.0], "val_loss": [1.0]}, 0.0)
        registro = {
            "clases": len(conjunto.clases),
            "semilla": config.semilla,
            "val_accuracy": 0.5,
            "test_accuracy": 0.5,
        }
        return entrenamiento.Resultado(registro, historial, modelo)

    monkeypatch.setattr(arquitecturas, "cargar_base", cargar_base)
    monkeypatch.setattr(entrenamiento, "compilar", compilar)
    monkeypatch.setattr(entrenamiento, "entrenar_y_evaluar", entrenar_y_evaluar)
    monkeypatch.setattr(dispositivo, "detectar_gpus", lambda: [A100, A100])
    monkeypatch.setenv("CURSO_PRECISION", "float32")
    config = cfg.obtener_config("rapido", tam_imagen=32, epocas=1, lote=4)
    conjunto = datos.cargar_carpeta(demo.generar_demo(tmp_path / "frutas", imagenes_por_clase=10, tam=40), config)
    _, _, resultado = estrategias.entrenar_receta("mobilenet_v2", "fine_tuning", conjunto, config)
    assert [(n.split("_1.00")[0], dentro) for n, dentro in abiertos] == [
        ("base", True),
        *[("cabeza_en_cache", True)] * estrategias.SEMILLAS_CABEZA,  # una cabeza por semilla sobre la misma caché
        ("extraccion_mobilenetv2", True),
    ], abiertos
    # lote global: 4 por réplica × 2 réplicas, en cada cabeza y en el ajuste fino
    assert [lote for _, lote in entrenadas] == [8] * (estrategias.SEMILLAS_CABEZA + 1)
    assert resultado.modelo.output.dtype == "float32"


# --- MirroredStrategy de verdad sobre dos CPU lógicas -----------------------------------------------

GUION_ESPEJO = textwrap.dedent(
    """
    import json, os, sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    from course_utils import config as cfg, datos, demo, dispositivo, estrategias

    # Dos GPU simuladas; la MirroredStrategy es real, sobre las dos CPU lógicas.
    dispositivo.detectar_gpus = lambda: [dispositivo.GPU("GPU simulada", (8, 0))] * 2
    dispositivo.FABRICA_ESPEJO = lambda: tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    carpeta = demo.generar_demo(sys.argv[1], imagenes_por_clase=10, tam=40, semilla=0)
    config = cfg.obtener_config("rapido", tam_imagen=32, epocas=1, lote=4)
    conjunto = datos.cargar_carpeta(carpeta, config)
    lotes = []
    original = type(conjunto).datasets

    def espia(self, tam, lote, *args, **kwargs):
        lotes.append(lote)
        return original(self, tam, lote, *args, **kwargs)

    type(conjunto).datasets = espia

    resultado = estrategias.entrenar_desde_cero(conjunto, config, 32)
    lotes_receta = list(lotes)
    modelo = resultado.modelo
    ds = conjunto.datasets(32, lotes[0], semilla=config.semilla)[0]
    print("RESULTADO " + json.dumps({
        "anuncio": dispositivo.anuncio(dispositivo.preparar(config.lote)),
        "estrategia": type(modelo.distribute_strategy).__name__,
        "replicas": modelo.distribute_strategy.num_replicas_in_sync,
        "variable": type(modelo.layers[1].kernel.value).__name__,
        "lotes": lotes_receta,
        "lote_ds": int(next(iter(ds))[0].shape[0]),
        "epocas": resultado.historial.epocas,
        "salida": str(modelo.output.dtype),
        "jit": modelo.jit_compile,
        "accuracy": resultado.registro["test_accuracy"],
    }))
    """
)


def test_mirrored_strategy_real_en_dos_cpu_logicas(tmp_path):
    entorno = {**os.environ, "CURSO_PRECISION": "float32", "CURSO_RESULTADOS_DIR": str(tmp_path / "resultados")}
    entorno.pop("CURSO_XLA", None)
    proceso = subprocess.run(
        [sys.executable, "-c", GUION_ESPEJO, str(tmp_path / "frutas")],
        capture_output=True,
        text=True,
        env=entorno,
        timeout=120,
    )
    assert proceso.returncode == 0, proceso.stderr[-3000:]
    linea = next(x for x in proceso.stdout.splitlines() if x.startswith("RESULTADO "))
    r = json.loads(linea.removeprefix("RESULTADO "))
    assert r["estrategia"] == "MirroredStrategy" and r["replicas"] == 2
    assert r["variable"] == "MirroredVariable"  # creadas dentro del scope: una copia por réplica
    assert r["lotes"] == [8] and r["lote_ds"] == 8  # lote global = 4 por réplica × 2
    assert r["epocas"] == 1 and 0.0 <= r["accuracy"] <= 1.0
    assert r["salida"] == "float32" and r["jit"] is False
    assert "MirroredStrategy (2 réplicas)" in r["anuncio"] and "lote global: 8 (4 por réplica)" in r["anuncio"]


# --- El script de GPU (benchmarks/gpu_completo.py): lo que se puede comprobar sin GPU ----------------


def _script_gpu():
    import importlib.util

    ruta = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_completo.py"
    spec = importlib.util.spec_from_file_location("gpu_completo", ruta)
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    return modulo


def test_script_gpu_sin_gpu_se_niega_y_calcula_efectos_e_informe(monkeypatch, capsys, tmp_path):
    gpu = _script_gpu()
    monkeypatch.setattr(dispositivo, "detectar_gpus", lambda: [])
    monkeypatch.setenv("CURSO_RESULTADOS_DIR", str(tmp_path))
    assert gpu.main(["--salida", str(tmp_path / "salida")]) == 2
    assert "No hay GPU" in capsys.readouterr().err and not (tmp_path / "salida").exists()
    variantes = [
        {"red": "vgg16", "precision": p, "jit_compile": j, "img_s": v}
        for (p, j), v in zip(gpu.VARIANTES, (100.0, 120.0, 250.0, 300.0))
    ]
    efectos = gpu.efectos(variantes)
    assert efectos == {
        "vgg16": {"mixta_sin_xla": 2.5, "mixta_con_xla": 2.5, "xla_en_float32": 1.2, "xla_en_mixta": 1.2}
    }
    maquina = {"gpu": "NVIDIA H200", "cpu": "x", "nucleos": 16, "tensorflow": "2.21.0", "keras": "3.15.1"}
    texto = gpu.markdown({
        "maquina": maquina, "fecha": "hoy", "duracion_s": 400.0, "prueba": False, "anuncio": "Dispositivo: 1 GPU",
        "variantes": variantes, "efectos": efectos, "rejilla_completa": False, "rejilla": [],
    })  # fmt: skip
    assert "| vgg16 | mixed_float16 | sí |" in texto and "**Incompleta**" in texto
