"""Grad-CAM: qué zonas de la imagen pesan en la decisión de una CNN, también con la base anidada.

Grad-CAM (Selvaraju et al., 2017) deriva la puntuación de una clase (el *logit*, antes del softmax)
respecto a los mapas de activación de la última capa convolucional, promedia esos gradientes en el
espacio para obtener un peso por canal, suma los mapas ponderados y se queda con la parte positiva.

Los modelos del curso son `Input → base(training=False) → GAP → Dropout → Dense`, con la base
convolucional como una capa que es a su vez un `keras.Model`. En Keras 3 no se puede pedir la salida
de una capa interna de la base desde el modelo exterior, así que aquí se construye un submodelo de la
base (entrada → [mapa elegido, salida de la base]) y las capas exteriores se aplican a mano, en orden,
dentro de `tf.GradientTape`. Cuando un modelo explica varias imágenes, el cálculo se compila con `tf.function`.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np

_CONVOLUCIONES = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)


def _forma_salida(capa) -> tuple | None:
    """Forma de la salida de una capa en su grafo, o None si no tiene una sola salida definida."""
    try:
        salida = capa.output
    except (AttributeError, ValueError):
        return None
    return tuple(salida.shape) if hasattr(salida, "shape") else None


def _capas_en_orden(modelo) -> list:
    """Todas las capas, entrando en los submodelos (la base convolucional) en el orden del grafo."""
    capas = []
    for capa in modelo.layers:
        capas += _capas_en_orden(capa) if isinstance(capa, keras.Model) else [capa]
    return capas


def ultima_capa_convolucional(modelo) -> str:
    """Nombre de la última capa con salida 4-D, buscando también dentro de la base anidada."""
    capas = _capas_en_orden(modelo)
    if not any(isinstance(c, _CONVOLUCIONES) for c in capas):
        raise ValueError(
            f"El modelo «{modelo.name}» no tiene capas convolucionales (Conv2D, DepthwiseConv2D o "
            "SeparableConv2D): Grad-CAM necesita mapas de activación espaciales. Usa una CNN o pasa "
            "capa= con el nombre de una capa de salida (lote, alto, ancho, canales)."
        )
    for capa in reversed(capas):
        forma = _forma_salida(capa)
        if forma is not None and len(forma) == 4 and not isinstance(capa, keras.layers.InputLayer):
            return capa.name
    raise ValueError(f"El modelo «{modelo.name}» no tiene ninguna capa con salida 4-D (lote, alto, ancho, canales).")


def _contenedor(modelo, nombre: str):
    """La capa exterior que es `nombre` o el submodelo que la contiene (un solo nivel de anidamiento)."""
    for capa in modelo.layers:
        if capa.name == nombre:
            return capa
        if isinstance(capa, keras.Model) and any(c.name == nombre for c in capa.layers):
            return capa
    internas = [c.name for c in _capas_en_orden(modelo)]
    raise ValueError(
        f"El modelo «{modelo.name}» no tiene ninguna capa «{nombre}» (ni dentro de su base). "
        f"Algunas de sus últimas capas: {', '.join(internas[-6:])}. Usa capa=None para elegirla sola."
    )


def _es_softmax(funcion) -> bool:
    return getattr(funcion, "__name__", "") == "softmax"


def _logits(ultima, h):
    """Puntuaciones antes del softmax de la última capa, para que el gradiente no se sature cuando p ≈ 1."""
    if isinstance(ultima, keras.layers.Dense) and _es_softmax(ultima.activation):
        z = keras.ops.matmul(h, ultima.kernel)
        return z + ultima.bias if ultima.use_bias else z
    if isinstance(ultima, keras.layers.Activation) and _es_softmax(ultima.activation):
        return h
    return ultima(h, training=False)


def _propagar(modelo, nombre: str):
    """Función x → (mapa de activación de `nombre`, entrada de la última capa) y la última capa."""
    ultima = modelo.layers[-1]
    contenedor = _contenedor(modelo, nombre)
    if contenedor.name == nombre:  # modelo plano: un submodelo basta
        sub = keras.Model(modelo.inputs, [contenedor.output, ultima.input])
        return (lambda x: sub(x, training=False)), ultima
    base = contenedor
    sub = keras.Model(base.inputs, [base.get_layer(nombre).output, base.outputs[0]])
    capas = [c for c in modelo.layers[:-1] if not isinstance(c, keras.layers.InputLayer)]
    i_base = capas.index(base)

    def propagar(x):
        for capa in capas[:i_base]:  # p. ej. un bloque de aumento (inactivo con training=False)
            x = capa(x, training=False)
        mapa, x = sub(x, training=False)
        for capa in capas[i_base + 1 :]:  # la cabeza: GAP, Dropout (inactivo)...
            x = capa(x, training=False)
        return mapa, x

    return propagar, ultima


def _preparar(modelo, nombre: str):
    """Función lote, índice → (mapa, gradientes, logits, índice); índice negativo = la clase más probable."""
    import tensorflow as tf

    propagar, ultima = _propagar(modelo, nombre)

    def calcular(lote, indice):
        with tf.GradientTape() as cinta:
            mapa, h = propagar(lote)
            logits = keras.ops.convert_to_tensor(_logits(ultima, h))
            indice = tf.where(indice < 0, tf.argmax(logits[0], output_type=tf.int32), indice)
            puntuacion = tf.gather(logits[0], indice)
        return mapa, cinta.gradient(puntuacion, mapa), logits, indice

    return calcular, _es_softmax(getattr(ultima, "activation", None))


# Trazar un `tf.function` cuesta unos segundos; compensa cuando un modelo explica varias imágenes.
_USOS_PARA_COMPILAR = 3
_PREPARADAS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _funcion(modelo, nombre: str):
    """La función de un modelo y una capa: en modo eager las primeras veces y compilada a partir de la tercera."""
    import tensorflow as tf

    por_capa = _PREPARADAS.setdefault(modelo, {})
    if nombre not in por_capa:
        por_capa[nombre] = [*_preparar(modelo, nombre), 0]  # [función, termina en softmax, usos]
    entrada = por_capa[nombre]
    entrada[2] += 1
    if entrada[2] == _USOS_PARA_COMPILAR:
        entrada[0] = tf.function(entrada[0], reduce_retracing=True)
    return entrada[0], entrada[1]


def _imagen_unica(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 3:
        raise ValueError(
            f"mapa_gradcam espera UNA imagen preprocesada de forma (alto, ancho, canales) y recibió {x.shape}. "
            "Para un lote, llama a la función con cada imagen (x[i])."
        )
    return x


def _n_clases(modelo) -> int:
    forma = tuple(modelo.outputs[0].shape)
    if len(forma) != 2:
        raise ValueError(
            f"La salida de «{modelo.name}» tiene forma {forma}: Grad-CAM necesita un clasificador que termine en "
            "un vector de puntuaciones por clase (p. ej. Dense con softmax)."
        )
    return int(forma[-1])


def mapa_gradcam(modelo, x, indice_clase: int | None = None, capa: str | None = None):
    """Mapa Grad-CAM (tam×tam, en [0, 1]), clase explicada y probabilidades de UNA imagen."""
    import tensorflow as tf

    x = _imagen_unica(x)
    n_clases = _n_clases(modelo)
    if indice_clase is not None and not 0 <= int(indice_clase) < n_clases:
        raise ValueError(
            f"indice_clase={indice_clase} fuera de rango: el modelo tiene {n_clases} clases (0 a {n_clases - 1})."
        )
    calcular, con_softmax = _funcion(modelo, capa or ultima_capa_convolucional(modelo))
    indice = -1 if indice_clase is None else int(indice_clase)
    mapa, gradientes, logits, indice = calcular(tf.constant(x[None]), tf.constant(indice, tf.int32))
    pesos = tf.reduce_mean(gradientes[0], axis=(0, 1))  # un peso por canal: la media espacial del gradiente
    cam = tf.nn.relu(tf.reduce_sum(mapa[0] * pesos, axis=-1))  # solo lo que empuja a favor de la clase
    cam = tf.image.resize(cam[..., None], x.shape[:2], method="bilinear")[..., 0].numpy()
    cam = np.nan_to_num(cam, nan=0.0, posinf=0.0, neginf=0.0)
    maximo = float(cam.max())
    cam = np.clip(cam / maximo, 0.0, 1.0) if maximo > 0 else np.zeros_like(cam)
    probabilidades = tf.nn.softmax(logits)[0] if con_softmax else logits[0]
    return cam.astype(np.float32), int(indice), np.asarray(probabilidades, dtype=np.float32)


def superponer(imagen_uint8, mapa, alfa: float = 0.45) -> np.ndarray:
    """Superpone el mapa (paleta jet) sobre la imagen RGB uint8 y devuelve otra RGB uint8."""
    import matplotlib
    from PIL import Image

    imagen = np.asarray(imagen_uint8)
    if imagen.ndim != 3 or imagen.shape[-1] != 3:
        raise ValueError(f"superponer espera una imagen RGB (alto, ancho, 3) y recibió {imagen.shape}.")
    if not 0.0 <= alfa <= 1.0:
        raise ValueError(f"alfa debe estar entre 0 (solo la imagen) y 1 (solo el mapa); se pidió {alfa}.")
    mapa = np.nan_to_num(np.asarray(mapa, dtype=np.float32))
    if mapa.shape != imagen.shape[:2]:
        mapa = np.asarray(Image.fromarray(mapa, mode="F").resize(imagen.shape[1::-1], Image.BILINEAR))
    color = matplotlib.colormaps["jet"](np.clip(mapa, 0.0, 1.0))[..., :3] * 255.0
    mezcla = (1.0 - alfa) * imagen.astype(np.float32) + alfa * color
    return np.clip(np.rint(mezcla), 0, 255).astype(np.uint8)
