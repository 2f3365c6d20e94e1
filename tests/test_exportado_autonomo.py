"""El `.keras` exportado se basta solo: lleva su preprocesado y Keras, sin el curso, predice lo mismo.

La prueba fuerte corre en un proceso aparte donde `course_utils` NO se puede importar. Como el paquete está
instalado en modo editable (`pip install -e .`, que registra un buscador de módulos en site-packages), no basta
con cambiar de carpeta: el proceso hijo arranca con `python -I` (sin PYTHONPATH, sin la carpeta actual ni el
site del usuario en sys.path) y lo primero que hace es `sys.modules["course_utils"] = None`, con lo que
cualquier `import course_utils...` (el suyo o uno que intentase Keras al deserializar) lanza ImportError. El
hijo comprueba que así es antes de cargar nada y, al final, que no se importó ningún módulo del curso.
"""

import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
from conftest import crear_imagen
from keras.applications import imagenet_utils

from course_utils import arquitecturas, datos, entrenamiento, estrategias, exportacion

TAM = 32
CLASES = ["margaritas", "rosas", "tulipanes"]
# (arquitectura, estrategia): la CNN desde cero (x/255), una red «tf» y una «caffe», con pesos aleatorios.
CASOS = [("cnn_desde_cero", "desde_cero"), ("mobilenet_v2", "extraccion"), ("squeezenet", "fine_tuning")]

HIJO = r"""
import sys

sys.modules["course_utils"] = None  # antes que nada: ni el buscador del modo editable lo puede traer
try:
    import course_utils  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("course_utils se pudo importar en el proceso aislado")
import json

import keras
import numpy as np

for modelo, entrada, salida in json.loads(sys.argv[1]):
    cargado = keras.models.load_model(modelo)  # safe_mode por defecto, sin custom_objects
    np.save(salida, cargado.predict(np.load(entrada), verbose=0))
cargados = sorted(m for m in sys.modules if m.startswith("course_utils") and sys.modules[m] is not None)
if cargados:
    raise SystemExit(f"se importaron módulos del curso: {cargados}")
print("hijo ok", keras.__version__)
"""


def _preprocesado(arquitectura: str):
    if arquitectura == estrategias.ARQ_DESDE_CERO:
        return estrategias.escalar
    return arquitecturas.obtener(arquitectura).preprocesado


def _modelo(arquitectura: str) -> keras.Model:
    """Como sale de entrenar: construido por las estrategias del curso y compilado, con pesos aleatorios.

    Con pesos aleatorios, MobileNetV2 apaga sus activaciones (salen ~1e-13) y las tres cabezas dan casi 1/3
    a todo: cualquier comparación pasaría. Para que las probabilidades dependan de verdad de la imagen, las
    BatchNorm toman la media y la varianza de 64 imágenes aleatorias y la cabeza se escala a logits de
    desviación ~3.
    """
    keras.utils.set_random_seed(0)
    muestra = np.random.default_rng(1).uniform(0, 255, (64, TAM, TAM, 3)).astype("float32")
    x = _preprocesado(arquitectura)(muestra)
    if arquitectura == estrategias.ARQ_DESDE_CERO:
        modelo = estrategias.construir_desde_cero(len(CLASES), TAM)
    else:
        base, origen = arquitecturas.cargar_base(arquitectura, pesos=None, tam=TAM)
        assert origen == "aleatorios"
        normas = [c for c in base.layers if isinstance(c, keras.layers.BatchNormalization)]
        for capa in normas:
            capa.momentum = 0.0  # una pasada en modo entrenamiento deja las estadísticas de la muestra
        base(x, training=True)
        for capa in normas:
            capa.momentum = 0.99
        modelo = estrategias.construir_extraccion(base, len(CLASES), TAM)
    cabeza = modelo.layers[-1]
    rasgos = keras.Model(modelo.inputs, cabeza.input).predict(x, verbose=0)
    kernel, sesgo = cabeza.get_weights()
    cabeza.set_weights([kernel * 3 / max(float((rasgos @ kernel).std()), 1e-12), sesgo])
    return entrenamiento.compilar(modelo)


def _clases_serializadas(nodo) -> set[tuple[str, str]]:
    """(module, class_name) de todo objeto serializado en el config.json de un `.keras`."""
    if isinstance(nodo, list):
        return set().union(*map(_clases_serializadas, nodo)) if nodo else set()
    if not isinstance(nodo, dict):
        return set()
    propias = {(nodo["module"], nodo["class_name"])} if "module" in nodo and "class_name" in nodo else set()
    return propias.union(*map(_clases_serializadas, nodo.values()))


def _compilaciones(nodo) -> list:
    """Todas las `compile_config` del config.json (la del modelo y las de sus submodelos)."""
    if isinstance(nodo, list):
        return [c for valor in nodo for c in _compilaciones(valor)]
    if not isinstance(nodo, dict):
        return []
    return [nodo.get("compile_config")] * ("compile_config" in nodo) + _compilaciones(list(nodo.values()))


def _aplicar(capas, x: np.ndarray) -> np.ndarray:
    modelo = keras.Sequential([keras.Input(x.shape[1:]), *capas])
    return np.asarray(modelo.predict(x, verbose=0))


@pytest.fixture(scope="module")
def pixeles():
    """Píxeles RGB aleatorios de 0 a 255 (no enteros) en float32."""
    return np.random.default_rng(0).uniform(0, 255, (4, TAM, TAM, 3)).astype("float32")


@pytest.mark.parametrize("arquitectura", [estrategias.ARQ_DESDE_CERO, *arquitecturas.NOMBRES])
def test_las_capas_hacen_lo_mismo_que_el_preprocess_input_de_cada_red(arquitectura, pixeles):
    capas = exportacion.capas_preprocesado(arquitectura)
    obtenido = _aplicar(capas, pixeles)
    esperado = _preprocesado(arquitectura)(pixeles.copy())  # preprocess_input modifica su entrada
    assert np.abs(obtenido - esperado).max() < 1e-3
    assert all(type(c).__module__.startswith("keras.") for c in capas), "solo capas que trae Keras"
    assert not any(c.trainable_weights for c in capas), "el preprocesado no se entrena"
    assert capas[-1].name == exportacion.CAPA_PREPROCESADO
    if exportacion.modo_preprocesado(arquitectura) == "caffe":
        assert isinstance(capas[0], keras.layers.Dense) and not capas[0].trainable


def test_modo_torch_como_keras_applications(pixeles):
    esperado = imagenet_utils.preprocess_input(pixeles.copy(), mode="torch")
    assert np.abs(_aplicar(exportacion.capas_de_modo("torch"), pixeles) - esperado).max() < 1e-3
    with pytest.raises(ValueError, match="Modo de preprocesado desconocido"):
        exportacion.capas_de_modo("rescale_1_255")


@pytest.mark.parametrize(("umask", "permisos"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_el_archivo_respeta_la_umask(tmp_path, umask, permisos):
    modelo = estrategias.construir_desde_cero(len(CLASES), 16)
    anterior = os.umask(umask)
    try:
        ruta = exportacion.exportar(
            modelo, tmp_path / "m.keras", clases=CLASES, arquitectura="cnn_desde_cero", tam=16,
            estrategia="desde_cero",
        )  # fmt: skip
    finally:
        os.umask(anterior)
    assert ruta.stat().st_mode & 0o777 == permisos
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"], "no deben quedar temporales"


@pytest.fixture(scope="module")
def exportados(tmp_path_factory):
    """Los tres modelos exportados, seis fotos de tamaños distintos y sus píxeles crudos tal como los lee el curso."""
    raiz = tmp_path_factory.mktemp("autonomo")
    fotos = raiz / "fotos"
    for i, tam in enumerate([(40, 30), (64, 64), (20, 50), (33, 33), (100, 60), (32, 32)]):
        crear_imagen(fotos / f"flor_{i}.png", tam, semilla=i)
    archivos = sorted(fotos.iterdir())
    crudos = np.stack([datos.cargar_imagen(p, TAM) for p in archivos]).astype("float32")
    np.save(raiz / "crudos.npy", crudos)
    casos = {}
    for arquitectura, estrategia in CASOS:
        modelo = _modelo(arquitectura)
        ruta = exportacion.exportar(
            modelo, raiz / f"{arquitectura}.keras", clases=CLASES, arquitectura=arquitectura, tam=TAM,
            estrategia=estrategia, registro={"test_accuracy": 0.5},
        )  # fmt: skip
        casos[arquitectura] = (modelo, ruta)
    return raiz, fotos, crudos, casos


def test_keras_solo_sin_el_curso_predice_lo_mismo_que_predecir(exportados):
    raiz, fotos, crudos, casos = exportados
    encargo = [[str(ruta), str(raiz / "crudos.npy"), str(raiz / f"{a}.npy")] for a, (_, ruta) in casos.items()]
    hijo = subprocess.run(
        [sys.executable, "-I", "-c", HIJO, json.dumps(encargo)],
        cwd=raiz, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
    )  # fmt: skip
    assert hijo.returncode == 0, hijo.stdout[-2000:] + hijo.stderr[-3000:]
    assert "hijo ok" in hijo.stdout
    for arquitectura, (modelo, ruta) in casos.items():
        solo_keras = np.load(raiz / f"{arquitectura}.npy")
        curso = np.array([list(r["probabilidades"].values()) for r in exportacion.predecir(ruta, fotos)])
        entrenado = modelo.predict(_preprocesado(arquitectura)(crudos.copy()), verbose=0)
        assert solo_keras.shape == (6, len(CLASES)) and solo_keras.std(axis=0).max() > 0.05, "probabilidades planas"
        # El mismo archivo con los mismos píxeles: lo mismo que `predecir` (medido: diferencia 0).
        assert np.allclose(solo_keras, curso, atol=1e-6), f"{arquitectura}: {np.abs(solo_keras - curso).max()}"
        # Frente al modelo entrenado con el preprocess_input de numpy, x·(1/127.5) − 1 y x/127.5 − 1 difieren en
        # un ulp y estas redes aleatorias lo amplifican (medido: ≤ 2e-5 en MobileNetV2; 0 en «caffe»).
        assert np.allclose(solo_keras, entrenado, atol=1e-4), f"{arquitectura}: {np.abs(solo_keras - entrenado).max()}"
        # El modelo en memoria (sin la capa de preprocesado) predice con el curso lo mismo que el archivo.
        en_memoria = np.array([list(r["probabilidades"].values()) for r in exportacion.predecir(modelo, fotos)])
        assert np.allclose(en_memoria, curso, atol=1e-4)


def test_el_archivo_solo_usa_capas_de_keras(exportados):
    *_, casos = exportados
    for arquitectura, (_, ruta) in casos.items():
        with zipfile.ZipFile(ruta) as zf:
            config = zf.read("config.json").decode("utf-8")
            metadatos = json.loads(zf.read(exportacion.ENTRADA_METADATOS))
        modulos = _clases_serializadas(json.loads(config))
        ajenos = {(m, c) for m, c in modulos if m and not m.startswith("keras")}
        assert not ajenos and "course_utils" not in config and "Lambda" not in config, (arquitectura, ajenos)
        assert not any(_compilaciones(json.loads(config))), "se exporta para predecir: sin compilar nada dentro"
        assert metadatos["formato"] == exportacion.FORMATO and metadatos["entrada"] == exportacion.ENTRADA
        assert metadatos["modo_preprocesado"] == exportacion.modo_preprocesado(arquitectura)
        assert metadatos["clases"] == CLASES and metadatos["tam"] == TAM


def test_el_preprocesado_no_se_aplica_dos_veces(exportados):
    """Con el preprocesado dentro, meterle la entrada ya preprocesada (el error de antes) cambia el resultado."""
    _, fotos, crudos, casos = exportados
    for arquitectura, (_, ruta) in casos.items():
        cargado, metadatos = exportacion.cargar_exportado(ruta)
        assert exportacion.lleva_preprocesado(cargado)
        bien = cargado.predict(crudos, verbose=0)
        doble = cargado.predict(exportacion.preprocesado_de(metadatos)(crudos.copy()), verbose=0)
        assert not np.allclose(bien, doble, atol=1e-3), f"{arquitectura}: la prueba no distinguiría el error"
        curso = np.array(
            [list(r["probabilidades"].values()) for r in exportacion.predecir((cargado, metadatos), fotos)]
        )
        assert np.allclose(curso, bien, atol=1e-5)


def test_reexportar_un_exportado_no_duplica_el_preprocesado(exportados, tmp_path):
    _, fotos, crudos, casos = exportados
    _, ruta = casos["squeezenet"]
    cargado, metadatos = exportacion.cargar_exportado(ruta)
    otra = exportacion.exportar(
        cargado, tmp_path / "otra.keras", clases=CLASES, arquitectura="squeezenet", tam=TAM, estrategia="fine_tuning"
    )
    de_nuevo, _ = exportacion.cargar_exportado(otra)
    capas = [c.name for c in de_nuevo.layers if c.name.startswith(exportacion.CAPA_PREPROCESADO)]
    assert capas == [exportacion.CAPA_PREPROCESADO]
    assert np.allclose(de_nuevo.predict(crudos, verbose=0), cargado.predict(crudos, verbose=0), atol=1e-6)
