"""Gráficas del curso: curvas, matriz de confusión, rejillas de imágenes y barras."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def curvas(historial, titulo: str = "", ax=None):
    """Pérdida y exactitud: entrenamiento discontinuo, validación continua y fronteras de fase."""
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    metricas = historial.metricas if hasattr(historial, "metricas") else historial
    epocas = np.arange(1, len(metricas["loss"]) + 1)
    for eje, clave, nombre in ((ax[0], "loss", "pérdida"), (ax[1], "accuracy", "exactitud")):
        eje.plot(epocas, metricas[clave], "--", label=f"{nombre} de entrenamiento")
        eje.plot(epocas, metricas[f"val_{clave}"], "-", label=f"{nombre} de validación")
        for frontera in getattr(historial, "fronteras", []):
            eje.axvline(frontera + 0.5, color="gray", linestyle=":", label="inicio del ajuste fino")
        eje.set_xlabel("época")
        eje.set_ylabel(nombre)
        eje.legend(fontsize=8)
    ax[0].figure.suptitle(titulo)
    ax[0].figure.tight_layout()
    return ax


def matriz_confusion(y_real, y_pred, clases, titulo: str = "Matriz de confusión", ax=None):
    """Dibuja la matriz de confusión con los recuentos en cada celda."""
    n = len(clases)
    matriz = np.zeros((n, n), dtype=int)
    for real, pred in zip(y_real, y_pred):
        matriz[int(real), int(pred)] += 1
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * n + 2, 1.1 * n + 1.5))
    ax.imshow(matriz, cmap="Blues")
    ax.set_xticks(range(n), clases, rotation=45, ha="right")
    ax.set_yticks(range(n), clases)
    ax.set_xlabel("clase predicha")
    ax.set_ylabel("clase real")
    ax.set_title(titulo)
    for i in range(n):
        for j in range(n):
            color = "white" if matriz[i, j] > matriz.max() / 2 else "black"
            ax.text(j, i, matriz[i, j], ha="center", va="center", color=color)
    return matriz


def rejilla(imagenes, titulos=None, columnas: int = 6, tam: float = 2.0, titulo: str = ""):
    """Rejilla de imágenes (uint8 o float en 0-255) con un título opcional por imagen."""
    filas = max(1, int(np.ceil(len(imagenes) / columnas)))
    fig, ejes = plt.subplots(filas, columnas, figsize=(tam * columnas, tam * filas), squeeze=False)
    for i, eje in enumerate(ejes.flat):
        eje.axis("off")
        if i < len(imagenes):
            eje.imshow(np.clip(np.asarray(imagenes[i]), 0, 255).astype("uint8"))
            if titulos is not None:
                eje.set_title(titulos[i], fontsize=8)
    fig.suptitle(titulo)
    fig.tight_layout()
    return fig


def barras(etiquetas, valores, titulo: str = "", eje_y: str = "", ax=None):
    """Gráfico de barras simple con el valor escrito sobre cada barra."""
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.9 * len(etiquetas) + 2), 3.5))
    rects = ax.bar([str(e) for e in etiquetas], valores, color="tab:blue")
    ax.bar_label(rects, fmt="%.3g", fontsize=8)
    ax.set_title(titulo)
    ax.set_ylabel(eje_y)
    ax.tick_params(axis="x", rotation=30)
    return ax
