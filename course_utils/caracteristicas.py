"""Características de una base congelada: extraerlas una vez, proyectarlas y buscar vecinos (cuaderno 03)."""

from __future__ import annotations

import numpy as np


def extraer(base, ds) -> tuple[np.ndarray, np.ndarray]:
    """Pasa un `tf.data` de (imagen preprocesada, etiqueta) por la base congelada; devuelve (X, y) (cuaderno 03).

    Si la base devuelve mapas de activación (lote, alto, ancho, canales), se promedian en el espacio
    (lo mismo que `GlobalAveragePooling2D`), así que cada imagen queda en un vector.
    """
    bloques_x, bloques_y = [], []
    for x, y in ds:
        salida = np.asarray(base(x, training=False))
        if salida.ndim == 4:
            salida = salida.mean(axis=(1, 2))
        bloques_x.append(salida.astype(np.float32))
        bloques_y.append(np.asarray(y))
    if not bloques_x:
        raise ValueError("El conjunto de datos está vacío: no hay imágenes de las que extraer características.")
    return np.concatenate(bloques_x), np.concatenate(bloques_y)


def proyeccion_2d(x: np.ndarray) -> np.ndarray:
    """Proyecta los vectores en sus dos componentes principales (PCA con NumPy) (cuaderno 03)."""
    centrados = x - x.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centrados, full_matrices=False)
    return centrados @ vt[:2].T


def vecinos_cercanos(x: np.ndarray, consulta: int, k: int = 5) -> np.ndarray:
    """Índices de las `k` imágenes más parecidas a la de `consulta` por similitud coseno (cuaderno 03)."""
    normalizados = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    similitud = normalizados @ normalizados[consulta]
    similitud[consulta] = -np.inf
    return np.argsort(-similitud)[:k]


def separabilidad(x: np.ndarray, y: np.ndarray) -> float:
    """Exactitud del vecino más cercano (dejando fuera la propia imagen): cuánto agrupan las clases (cuaderno 03)."""
    aciertos = [y[vecinos_cercanos(x, i, 1)[0]] == y[i] for i in range(len(y))]
    return float(np.mean(aciertos))
