"""Características de una base congelada: extraerlas una vez, proyectarlas y buscar vecinos."""

from __future__ import annotations

import weakref

import numpy as np

from course_utils import terminal

terminal.callar_avisos_de_tensorflow()  # sin avisos de «retracing» en los cuadernos


def extraer(base, ds) -> tuple[np.ndarray, np.ndarray]:
    """Pasa un `tf.data` de (imagen preprocesada, etiqueta) por la base congelada; devuelve (X, y).

    Si la base devuelve mapas de activación (lote, alto, ancho, canales), se promedian en el espacio
    (lo mismo que `GlobalAveragePooling2D`), así que cada imagen queda en un vector.
    """
    return _pasar_por_base(base, ds, promediar=True)


def extraer_mapas(base, ds) -> tuple[np.ndarray, np.ndarray]:
    """Como `extraer`, pero conserva los mapas de activación (n, alto, ancho, canales) sin promediar."""
    return _pasar_por_base(base, ds, promediar=False)


def _pasar_por_base(base, ds, promediar: bool) -> tuple[np.ndarray, np.ndarray]:
    """Inferencia compilada de la base (un grafo de TensorFlow, no modo eager), con BatchNorm en inferencia.

    Una sola pasada por `ds`: imágenes y etiquetas salen juntas aunque el `tf.data` se baraje. El grafo se
    traza una vez por base y forma de entrada, y se reutiliza en entrenamiento, validación y prueba.
    """
    pasar, bloques_x, bloques_y = None, [], []
    for x, y in ds:
        pasar = pasar or _grafo(base, promediar, tuple(x.shape[1:]), x.dtype)
        bloques_x.append(np.asarray(pasar(x), dtype=np.float32))
        bloques_y.append(np.asarray(y))
    if not bloques_x:
        raise ValueError("El conjunto de datos está vacío: no hay imágenes de las que extraer características.")
    return np.concatenate(bloques_x), np.concatenate(bloques_y)


_GRAFOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # base → {(promediar, forma, tipo): grafo}


def _grafo(base, promediar: bool, forma: tuple, tipo):
    """La `tf.function` de la base para esa forma de imagen: un solo grafo para cualquier tamaño de lote."""
    import tensorflow as tf

    referencia = weakref.ref(base)  # sin referencia fuerte: el grafo se libera con la base

    def pasar(x):
        salida = referencia()(x, training=False)
        if promediar and len(salida.shape) == 4:
            salida = tf.reduce_mean(salida, axis=(1, 2))  # lo mismo que la cabeza GlobalAveragePooling2D
        return salida

    grafos = _GRAFOS.setdefault(base, {})
    clave = (promediar, forma, str(tipo))
    if clave not in grafos:
        grafos[clave] = tf.function(pasar, input_signature=[tf.TensorSpec((None, *forma), tipo)])
    return grafos[clave]


def proyeccion_2d(x: np.ndarray) -> np.ndarray:
    """Proyecta los vectores en sus dos componentes principales (PCA con NumPy)."""
    centrados = x - x.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centrados, full_matrices=False)
    return centrados @ vt[:2].T


def vecinos_cercanos(x: np.ndarray, consulta: int, k: int = 5) -> np.ndarray:
    """Índices de las `k` imágenes más parecidas a la de `consulta` por similitud coseno."""
    normalizados = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    similitud = normalizados @ normalizados[consulta]
    similitud[consulta] = -np.inf
    return np.argsort(-similitud)[:k]


def separabilidad(x: np.ndarray, y: np.ndarray) -> float:
    """Exactitud del vecino más cercano (dejando fuera la propia imagen): cuánto agrupan las clases."""
    aciertos = [y[vecinos_cercanos(x, i, 1)[0]] == y[i] for i in range(len(y))]
    return float(np.mean(aciertos))


def datasets_de_caracteristicas(particiones, lote: int, semilla: int = 0):
    """Convierte tres pares (X, y) en memoria en los `tf.data` de entrenamiento, validación y prueba.

    Solo se baraja el de entrenamiento. Las características ya están calculadas, así que aquí no
    puede haber aumento de datos: cada época ve exactamente los mismos vectores.
    """
    import tensorflow as tf

    particiones = list(particiones)
    if len(particiones) != 3:
        raise ValueError(
            f"Se esperaban 3 pares (X, y) —entrenamiento, validación y prueba— y llegaron {len(particiones)}. "
            "Pasa la lista de lo que devuelve `caracteristicas.extraer` para cada partición."
        )
    salida = []
    for i, (x, y) in enumerate(particiones):
        if len(x) != len(y):
            raise ValueError(
                f"La partición {i} tiene {len(x)} vectores de características y {len(y)} etiquetas: "
                "deben salir de la misma llamada a `caracteristicas.extraer`."
            )
        ds = tf.data.Dataset.from_tensor_slices((np.asarray(x, np.float32), np.asarray(y, np.int32)))
        if i == 0:
            ds = ds.shuffle(len(x), seed=semilla, reshuffle_each_iteration=True)
        salida.append(ds.batch(lote).prefetch(tf.data.AUTOTUNE))
    return tuple(salida)


# --- Filtros y búsqueda por similitud -------------------------------------------


def mosaico_filtros(kernel, columnas: int = 8, maximo: int = 32, escala: int = 8, bgr: bool = False) -> np.ndarray:
    """Mosaico RGB uint8 de los filtros de la primera convolución, cada uno normalizado a 0-255.

    `kernel` tiene forma (alto, ancho, 3, filtros). Con `bgr=True` se invierten los canales, porque las
    redes de preprocesado «caffe» (VGG, ResNet50, SqueezeNet) reciben las imágenes en orden BGR.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4 or kernel.shape[2] != 3:
        raise ValueError(
            f"Se esperaba el kernel de una convolución sobre RGB, con forma (alto, ancho, 3, filtros), y llegó "
            f"{kernel.shape}. Usa la primera capa convolucional de la base (la que recibe la imagen)."
        )
    filtros = np.moveaxis(kernel[:, :, ::-1] if bgr else kernel, 3, 0)[:maximo]
    minimos = filtros.min(axis=(1, 2, 3), keepdims=True)
    rangos = np.maximum(filtros.max(axis=(1, 2, 3), keepdims=True) - minimos, 1e-12)
    filtros = np.repeat(np.repeat((filtros - minimos) / rangos, escala, axis=1), escala, axis=2)
    filas = int(np.ceil(len(filtros) / columnas))
    alto, ancho = filtros.shape[1] + 2, filtros.shape[2] + 2
    mosaico = np.ones((filas * alto, columnas * ancho, 3), dtype=np.float32)
    for i, filtro in enumerate(filtros):
        f, c = divmod(i, columnas)
        mosaico[f * alto + 1 : (f + 1) * alto - 1, c * ancho + 1 : (c + 1) * ancho - 1] = filtro
    return (255 * mosaico).round().astype(np.uint8)


def precision_vecinos(x: np.ndarray, y: np.ndarray, k: int = 5) -> float:
    """Fracción media de los `k` vecinos más cercanos de cada imagen que son de su misma clase."""
    if not 1 <= k < len(y):
        raise ValueError(f"k={k} vecinos no es válido con {len(y)} imágenes: usa un k entre 1 y {len(y) - 1}.")
    return float(np.mean([np.mean(y[vecinos_cercanos(x, i, k)] == y[i]) for i in range(len(y))]))
