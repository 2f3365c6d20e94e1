"""SqueezeNet v1.1 escrita con la API funcional de Keras 3.

SqueezeNet no está en ``keras.applications`` y las versiones de terceros no
funcionan en Keras 3 (usan ``/`` en los nombres de capa). Este módulo la
reconstruye capa a capa y carga los pesos públicos de ImageNet ("notop") que
se guardaron con ``save_weights`` de Keras 2.
"""

import os

import h5py
import keras
from keras import layers
from keras.applications import imagenet_utils

ARCHIVO_PESOS = "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"
URL_PESOS = "https://raw.githubusercontent.com/DeepCognition/keras-squeezenet/v0.4/" + ARCHIVO_PESOS
MD5_PESOS = "80b66c92d79d4310e07fb60a297bf0d1"

TAM_DEFECTO = 224
# Lado mínimo de la entrada para que la base aún produzca un mapa de 1x1.
# Cada capa 3x3 con paso 2 y padding 'valid' (conv1, pool1, pool3, pool5)
# transforma un lado n en (n - 3) // 2 + 1; los módulos fire no lo cambian.
# Recorriendo la red hacia atrás desde 1: 1 <- 3 <- 7 <- 15 <- 31.
TAM_MINIMO = 31

# SqueezeNet v1.1 por bloques: un MaxPooling 3x3 de paso 2 y los módulos fire
# (número, filtros squeeze, filtros expand) que lo siguen.
_BLOQUES = (
    ("pool1", ((2, 16, 64), (3, 16, 64))),
    ("pool3", ((4, 32, 128), (5, 32, 128))),
    ("pool5", ((6, 48, 192), (7, 48, 192), (8, 64, 256), (9, 64, 256))),
)


def nombre_keras3(nombre_keras2):
    """Traduce un nombre de capa de Keras 2 (``fire2/squeeze1x1``) a Keras 3."""
    return nombre_keras2.replace("/", "_")


def preprocess_input(x):
    """Prepara imágenes RGB 0-255 como en el entrenamiento original: BGR y resta de la media de ImageNet."""
    return imagenet_utils.preprocess_input(x, mode="caffe")


def _fire(x, numero, squeeze, expand):
    """Módulo fire: squeeze 1x1 y expansión 1x1 y 3x3 concatenadas."""

    def nombre(sufijo):
        return nombre_keras3(f"fire{numero}/{sufijo}")

    x = layers.Conv2D(squeeze, 1, padding="valid", name=nombre("squeeze1x1"))(x)
    x = layers.Activation("relu", name=nombre("relu_squeeze1x1"))(x)
    izquierda = layers.Conv2D(expand, 1, padding="valid", name=nombre("expand1x1"))(x)
    izquierda = layers.Activation("relu", name=nombre("relu_expand1x1"))(izquierda)
    derecha = layers.Conv2D(expand, 3, padding="same", name=nombre("expand3x3"))(x)
    derecha = layers.Activation("relu", name=nombre("relu_expand3x3"))(derecha)
    return layers.Concatenate(axis=-1, name=nombre("concat"))([izquierda, derecha])


def _base(x):
    """Parte convolucional de SqueezeNet v1.1 (conv1 a fire9)."""
    x = layers.Conv2D(64, 3, strides=2, padding="valid", name="conv1")(x)
    x = layers.Activation("relu", name="relu_conv1")(x)
    for pool, fires in _BLOQUES:
        x = layers.MaxPooling2D(3, strides=2, name=pool)(x)
        for numero, squeeze, expand in fires:
            x = _fire(x, numero, squeeze, expand)
    return x


def _cabeza(x, include_top, pooling, classes):
    """Clasificador original (conv10) o la agregación global pedida."""
    if include_top:
        x = layers.Dropout(0.5, name="drop9")(x)
        x = layers.Conv2D(classes, 1, padding="valid", name="conv10")(x)
        x = layers.Activation("relu", name="relu_conv10")(x)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return layers.Activation("softmax", name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    if pooling is None:
        return x
    raise ValueError(f"pooling debe ser None, 'avg' o 'max', no {pooling!r}.")


def _forma_entrada(input_shape, input_tensor, include_top):
    """Decide la forma de entrada y comprueba que no sea demasiado pequeña."""
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    if input_shape is None:
        return (TAM_DEFECTO, TAM_DEFECTO, 3) if include_top else (None, None, 3)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape debe ser (alto, ancho, canales), no {input_shape}.")
    if any(lado is not None and lado < TAM_MINIMO for lado in input_shape[:2]):
        raise ValueError(
            f"input_shape={tuple(input_shape)} es demasiado pequeño para SqueezeNet: "
            f"el alto y el ancho deben ser al menos {TAM_MINIMO} píxeles."
        )
    return tuple(input_shape)


def _ruta_pesos(weights, include_top):
    """Devuelve la ruta del h5 a cargar (None si no hay pesos) y valida ``weights``."""
    if weights is None:
        return None
    if include_top:
        raise ValueError(
            "Los pesos públicos de SqueezeNet no incluyen el clasificador (conv10): "
            "usa include_top=False y añade tu propia cabeza."
        )
    if weights == "imagenet":
        return keras.utils.get_file(ARCHIVO_PESOS, URL_PESOS, cache_subdir="models", file_hash=MD5_PESOS)
    if not os.path.exists(weights):
        raise ValueError(
            f"weights debe ser None, 'imagenet' o la ruta a {ARCHIVO_PESOS}; no existe el archivo {weights!r}."
        )
    return weights


def SqueezeNet(
    include_top=False,
    weights=None,
    input_shape=None,
    input_tensor=None,
    pooling=None,
    classes=1000,
    name="squeezenet",
):
    """Construye SqueezeNet v1.1 con la misma firma que los modelos de keras.applications."""
    ruta = _ruta_pesos(weights, include_top)
    forma = _forma_entrada(input_shape, input_tensor, include_top)
    entrada = layers.Input(shape=forma) if input_tensor is None else input_tensor
    salida = _cabeza(_base(entrada), include_top, pooling, classes)
    if input_tensor is not None:
        entrada = keras.utils.get_source_inputs(input_tensor)
    modelo = keras.Model(entrada, salida, name=name)
    if ruta is not None:
        cargar_pesos_h5(modelo, ruta)
    return modelo


def _pesos_por_capa(ruta):
    """Lee un h5 de ``save_weights`` de Keras 2: {nombre de capa: [kernel, bias]}."""
    with h5py.File(ruta, "r") as archivo:
        if "layer_names" not in archivo.attrs:
            raise ValueError(
                f"{ruta} no es un archivo de pesos de Keras 2 (falta 'layer_names'); "
                f"descarga {ARCHIVO_PESOS} (md5 {MD5_PESOS})."
            )
        pesos = {}
        for nombre in archivo.attrs["layer_names"]:
            grupo = archivo[nombre.decode()]
            nombres = [n.decode() for n in grupo.attrs["weight_names"]]
            if nombres:
                pesos[nombre.decode()] = [grupo[n][()] for n in nombres]
        return pesos


def _capa_destino(modelo, nombre_h5, ruta):
    """Busca en el modelo la capa de Keras 3 que corresponde a una capa del h5."""
    nombre = nombre_keras3(nombre_h5)
    try:
        return modelo.get_layer(nombre)
    except ValueError:
        raise ValueError(
            f"El archivo {ruta} trae pesos para la capa '{nombre_h5}', pero el "
            f"modelo '{modelo.name}' no tiene ninguna capa '{nombre}'. Carga los "
            "pesos en un modelo creado con SqueezeNet(include_top=False)."
        ) from None


def cargar_pesos_h5(modelo, ruta):
    """Copia en ``modelo`` los pesos de un h5 de Keras 2 con nombres tipo ``fire2/squeeze1x1``."""
    for nombre_h5, arrays in _pesos_por_capa(ruta).items():
        capa = _capa_destino(modelo, nombre_h5, ruta)
        esperadas = [tuple(peso.shape) for peso in capa.weights]
        encontradas = [array.shape for array in arrays]
        if esperadas != encontradas:
            raise ValueError(
                f"Las formas de la capa '{capa.name}' no coinciden con el archivo "
                f"{ruta} (capa '{nombre_h5}'): el modelo espera {esperadas} y el "
                f"archivo trae {encontradas}. Usa imágenes de 3 canales y el "
                f"archivo {ARCHIVO_PESOS} (md5 {MD5_PESOS})."
            )
        capa.set_weights(arrays)
