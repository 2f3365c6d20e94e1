"""Pruebas de course_utils.squeezenet (SqueezeNet v1.1 en Keras 3)."""

import hashlib
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py
import keras
import numpy as np
import pytest

from course_utils.squeezenet import (
    ARCHIVO_PESOS,
    MD5_PESOS,
    TAM_DEFECTO,
    TAM_MINIMO,
    URL_PESOS,
    SqueezeNet,
    cargar_pesos_h5,
    nombre_keras3,
    preprocess_input,
)

# Especificación independiente de v1.1: módulo fire -> (squeeze, expand).
FIRES = {
    2: (16, 64),
    3: (16, 64),
    4: (32, 128),
    5: (32, 128),
    6: (48, 192),
    7: (48, 192),
    8: (64, 256),
    9: (64, 256),
}
PARAMETROS_BASE = 722_496


def _conv(nombre, numero, lado, entrada, salida):
    """Capa convolucional tal como la guarda Keras 2: kernel 'uniformN' y bias."""
    kernel = (f"uniform{numero}", (lado, lado, entrada, salida))
    return nombre, [kernel, (f"{nombre}_b", (salida,))]


def _capas_keras2():
    """Capas del h5 público en su orden: (nombre, [(nombre del peso, forma)])."""
    capas = [("input_1", []), _conv("conv1", 1, 3, 3, 64)]
    capas += [("relu_conv1", []), ("pool1", [])]
    canales = 64
    for n, (squeeze, expand) in FIRES.items():
        if n in (4, 6):
            capas.append((f"pool{n - 1}", []))
        k = 3 * n - 4
        capas += [
            _conv(f"fire{n}/squeeze1x1", k, 1, canales, squeeze),
            (f"fire{n}/relu_squeeze1x1", []),
            _conv(f"fire{n}/expand1x1", k + 1, 1, squeeze, expand),
            _conv(f"fire{n}/expand3x3", k + 2, 3, squeeze, expand),
            (f"fire{n}/relu_expand1x1", []),
            (f"fire{n}/relu_expand3x3", []),
            (f"fire{n}/concat", []),
        ]
        canales = 2 * expand
    return capas + [("drop9", [])]


def _escribir_h5_keras2(ruta, capas, semilla=0):
    """Escribe un h5 con la estructura de ``save_weights`` de Keras 2 y pesos aleatorios."""
    rng = np.random.default_rng(semilla)
    with h5py.File(ruta, "w") as archivo:
        archivo.attrs["layer_names"] = np.array([n.encode() for n, _ in capas])
        for nombre, pesos in capas:
            grupo = archivo.create_group(nombre)
            nombres = np.array([p.encode() for p, _ in pesos]) if pesos else np.array([])
            grupo.attrs["weight_names"] = nombres
            for nombre_peso, forma in pesos:
                datos = rng.standard_normal(forma).astype("float32")
                grupo.create_dataset(nombre_peso, data=datos)
    return ruta


def _leer_h5(ruta):
    """{capa de Keras 2: [arrays]} leídos directamente con h5py."""
    with h5py.File(ruta, "r") as archivo:
        pesos = {}
        for nombre in (n.decode() for n in archivo.attrs["layer_names"]):
            grupo = archivo[nombre]
            nombres = [p.decode() for p in grupo.attrs["weight_names"]]
            if nombres:
                pesos[nombre] = [grupo[p][()] for p in nombres]
        return pesos


def _estructura_h5(ruta):
    """Rutas, formas, tipos y atributos de un h5, sin los valores de los pesos."""
    estructura = {}
    with h5py.File(ruta, "r") as archivo:
        estructura["/"] = [a.decode() for a in archivo.attrs["layer_names"]]

        def anotar(nombre, objeto):
            if isinstance(objeto, h5py.Dataset):
                estructura[nombre] = (objeto.shape, str(objeto.dtype))
            else:
                nombres = objeto.attrs.get("weight_names")
                estructura[nombre] = None if nombres is None else list(nombres)

        archivo.visititems(anotar)
    return estructura


def _comprobar_pesos_iguales(modelo, ruta):
    """Cada kernel y bias del modelo es idéntico al del archivo, y no falta ninguno."""
    pesos = _leer_h5(ruta)
    for nombre, arrays in pesos.items():
        del_modelo = modelo.get_layer(nombre_keras3(nombre)).get_weights()
        assert len(del_modelo) == len(arrays) == 2, nombre
        for w_modelo, w_archivo in zip(del_modelo, arrays):
            np.testing.assert_array_equal(w_modelo, w_archivo, err_msg=nombre)
    con_pesos = [capa.name for capa in modelo.layers if capa.weights]
    assert sorted(con_pesos) == sorted(nombre_keras3(n) for n in pesos)


@pytest.fixture(scope="module")
def ruta_pesos():
    carpeta = os.environ.get("CURSO_PESOS_DIR")
    if not carpeta:
        pytest.skip("CURSO_PESOS_DIR no está definida: no hay pesos reales.")
    ruta = Path(carpeta) / ARCHIVO_PESOS
    if not ruta.is_file():
        pytest.skip(f"No se encuentra {ruta}.")
    return ruta


@pytest.fixture(scope="module")
def carpeta_flores():
    carpeta = os.environ.get("CURSO_DATOS_DIR")
    if not carpeta:
        pytest.skip("CURSO_DATOS_DIR no está definida: no hay fotos de flores.")
    ruta = Path(carpeta) / "flower_photos"
    if not ruta.is_dir():
        pytest.skip(f"No se encuentra {ruta}.")
    return ruta


# --- Nombres y formas (siempre se ejecutan) ---


@pytest.mark.parametrize(
    ("keras2", "keras3"),
    [
        ("fire2/squeeze1x1", "fire2_squeeze1x1"),
        ("fire2/relu_squeeze1x1", "fire2_relu_squeeze1x1"),
        ("fire9/expand3x3", "fire9_expand3x3"),
        ("fire5/concat", "fire5_concat"),
        ("conv1", "conv1"),
    ],
)
def test_nombre_keras3(keras2, keras3):
    assert nombre_keras3(keras2) == keras3


def test_nombres_de_capas_compatibles_con_keras3():
    modelo = SqueezeNet()
    nombres = {capa.name for capa in modelo.layers}
    assert not any("/" in nombre for nombre in nombres)
    assert {nombre_keras3(n) for n, _ in _capas_keras2()} - nombres == {
        "input_1",
        "drop9",
    }


def test_tam_minimo_es_el_menor_lado_valido():
    modelo = SqueezeNet(input_shape=(TAM_MINIMO, TAM_MINIMO, 3))
    assert modelo.output_shape == (None, 1, 1, 512)
    dinamico = SqueezeNet()
    lado = TAM_MINIMO
    assert dinamico.compute_output_shape((1, lado, lado, 3)) == (1, 1, 1, 512)
    with pytest.raises(ValueError, match="zero or negative"):
        dinamico.compute_output_shape((1, lado - 1, lado - 1, 3))


@pytest.mark.parametrize("forma", [(TAM_MINIMO - 1, 224, 3), (224, 16, 3)])
def test_entrada_demasiado_pequena(forma):
    with pytest.raises(ValueError, match=f"al menos {TAM_MINIMO} píxeles"):
        SqueezeNet(input_shape=forma)


def test_formas_por_defecto_y_pooling():
    assert SqueezeNet().input_shape == (None, None, None, 3)
    assert SqueezeNet().output_shape == (None, None, None, 512)
    assert SqueezeNet(pooling="avg").output_shape == (None, 512)
    assert SqueezeNet(pooling="max").output_shape == (None, 512)
    con_cabeza = SqueezeNet(include_top=True, classes=5)
    assert con_cabeza.input_shape == (None, TAM_DEFECTO, TAM_DEFECTO, 3)
    assert con_cabeza.output_shape == (None, 5)
    with pytest.raises(ValueError, match="pooling"):
        SqueezeNet(pooling="media")


def test_input_tensor():
    entrada = keras.Input((64, 64, 3))
    escalada = keras.layers.Rescaling(1.0)(entrada)
    modelo = SqueezeNet(input_tensor=escalada, pooling="avg")
    assert modelo.inputs[0] is entrada
    assert modelo.output_shape == (None, 512)
    with pytest.raises(ValueError, match="al menos"):
        SqueezeNet(input_tensor=keras.Input((16, 16, 3)))


def test_numero_de_parametros():
    esperado = sum(int(np.prod(forma)) for _, pesos in _capas_keras2() for _, forma in pesos)
    assert SqueezeNet().count_params() == esperado == PARAMETROS_BASE


# --- Carga de un h5 falso con la estructura de Keras 2 (siempre se ejecutan) ---


def test_carga_h5_falso(tmp_path):
    ruta = _escribir_h5_keras2(tmp_path / "falso.h5", _capas_keras2())
    _comprobar_pesos_iguales(SqueezeNet(weights=str(ruta)), ruta)
    modelo = SqueezeNet(input_shape=(64, 64, 3))
    cargar_pesos_h5(modelo, ruta)
    _comprobar_pesos_iguales(modelo, ruta)


def test_error_si_la_forma_no_coincide(tmp_path):
    capas = _capas_keras2()
    indice = [n for n, _ in capas].index("fire5/expand3x3")
    capas[indice] = _conv("fire5/expand3x3", 13, 3, 32, 64)
    ruta = _escribir_h5_keras2(tmp_path / "mala_forma.h5", capas)
    with pytest.raises(ValueError, match="fire5_expand3x3.*no coinciden.*mala_forma"):
        SqueezeNet(weights=str(ruta))


def test_error_si_falta_una_capa_en_el_modelo(tmp_path):
    capas = _capas_keras2() + [_conv("conv10", 26, 1, 512, 1000)]
    ruta = _escribir_h5_keras2(tmp_path / "con_conv10.h5", capas)
    with pytest.raises(ValueError, match="'conv10'.*no tiene ninguna capa"):
        SqueezeNet(weights=str(ruta))


def test_errores_de_argumentos(tmp_path):
    with pytest.raises(ValueError, match="no existe el archivo"):
        SqueezeNet(weights=str(tmp_path / "no_existe.h5"))
    ruta = _escribir_h5_keras2(tmp_path / "falso.h5", _capas_keras2())
    with pytest.raises(ValueError, match="include_top=False"):
        SqueezeNet(include_top=True, weights=str(ruta))
    with h5py.File(tmp_path / "keras3.weights.h5", "w"):
        pass
    with pytest.raises(ValueError, match="no es un archivo de pesos de Keras 2"):
        SqueezeNet(weights=str(tmp_path / "keras3.weights.h5"))
    with pytest.raises(ValueError, match="alto, ancho, canales"):
        SqueezeNet(input_shape=(224, 224))


def test_guardar_y_cargar_keras(tmp_path):
    ruta_h5 = _escribir_h5_keras2(tmp_path / "falso.h5", _capas_keras2())
    base = SqueezeNet(weights=str(ruta_h5), input_shape=(64, 64, 3), pooling="avg")
    modelo = keras.Sequential([keras.Input((64, 64, 3)), base, keras.layers.Dense(3, activation="softmax")])
    modelo.save(tmp_path / "modelo.keras")
    recargado = keras.models.load_model(tmp_path / "modelo.keras")
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    x = preprocess_input(x)
    np.testing.assert_array_equal(modelo.predict(x, verbose=0), recargado.predict(x, verbose=0))


# --- Pesos reales de ImageNet (CURSO_PESOS_DIR) ---


def test_md5_del_archivo_real(ruta_pesos):
    assert hashlib.md5(ruta_pesos.read_bytes()).hexdigest() == MD5_PESOS


def test_h5_falso_tiene_la_estructura_del_real(ruta_pesos, tmp_path):
    falso = _escribir_h5_keras2(tmp_path / "falso.h5", _capas_keras2())
    assert _estructura_h5(falso) == _estructura_h5(ruta_pesos)


def test_carga_pesos_reales(ruta_pesos):
    modelo = SqueezeNet(weights=str(ruta_pesos))
    _comprobar_pesos_iguales(modelo, ruta_pesos)
    total = sum(a.size for arrays in _leer_h5(ruta_pesos).values() for a in arrays)
    assert modelo.count_params() == total == PARAMETROS_BASE


def test_weights_imagenet_usa_get_file(ruta_pesos, tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    shutil.copy(ruta_pesos, tmp_path / "models" / ARCHIVO_PESOS)
    get_file = keras.utils.get_file
    llamadas = []

    def get_file_sin_red(*args, **kwargs):
        llamadas.append((args, kwargs))
        return get_file(*args, cache_dir=str(tmp_path), **kwargs)

    monkeypatch.setattr(keras.utils, "get_file", get_file_sin_red)
    modelo = SqueezeNet(weights="imagenet")
    argumentos = {"cache_subdir": "models", "file_hash": MD5_PESOS}
    assert llamadas == [((ARCHIVO_PESOS, URL_PESOS), argumentos)]
    _comprobar_pesos_iguales(modelo, ruta_pesos)


# --- Sonda lineal: los pesos preentrenados dan mejores características ---

CLASES_SONDA = ("daisy", "dandelion", "roses")
FOTOS_POR_CLASE = 30


def _fotos(carpeta):
    """Las primeras fotos (por nombre) de cada clase, a 224x224 y preprocesadas."""
    imagenes, etiquetas = [], []
    for etiqueta, clase in enumerate(CLASES_SONDA):
        for foto in sorted((carpeta / clase).glob("*.jpg"))[:FOTOS_POR_CLASE]:
            imagen = keras.utils.load_img(foto, target_size=(TAM_DEFECTO,) * 2)
            imagenes.append(keras.utils.img_to_array(imagen))
            etiquetas.append(etiqueta)
    return preprocess_input(np.stack(imagenes)), np.array(etiquetas)


def _exactitud_media_de_clase(caracteristicas, etiquetas):
    """Clasificador por media de clase (coseno): mitad de cada clase entrena, mitad prueba."""
    f = caracteristicas / (np.linalg.norm(caracteristicas, axis=1, keepdims=True) + 1e-8)
    entrena = np.arange(len(etiquetas)) % FOTOS_POR_CLASE < FOTOS_POR_CLASE // 2
    medias = np.stack([f[entrena & (etiquetas == k)].mean(0) for k in range(len(CLASES_SONDA))])
    prediccion = (f[~entrena] @ medias.T).argmax(1)
    return float((prediccion == etiquetas[~entrena]).mean())


def test_sonda_preentrenado_mejor_que_aleatorio(ruta_pesos, carpeta_flores):
    x, y = _fotos(carpeta_flores)
    preentrenado = SqueezeNet(weights=str(ruta_pesos), pooling="avg")
    keras.utils.set_random_seed(0)
    aleatorio = SqueezeNet(pooling="avg")
    exactitud_pre = _exactitud_media_de_clase(preentrenado.predict(x, verbose=0), y)
    exactitud_ale = _exactitud_media_de_clase(aleatorio.predict(x, verbose=0), y)
    print(f"sonda: preentrenado {exactitud_pre:.2f}, aleatorio {exactitud_ale:.2f}")
    assert exactitud_pre >= 0.7
    assert exactitud_pre >= exactitud_ale + 0.2
