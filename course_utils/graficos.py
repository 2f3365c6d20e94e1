"""Gráficas del curso: curvas, matriz de confusión, rejillas de imágenes y barras."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from course_utils import formato
from course_utils.estrategias import ARQ_DESDE_CERO, COLUMNAS_TABLA, NOMBRES_ESTRATEGIA, titulo_red


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
    for real, pred in zip(y_real, y_pred, strict=True):
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


def barras_horizontales(etiquetas, valores, eje_x: str, ax=None):
    """Barras horizontales ordenadas tal como llegan, la primera arriba (comparador de resultados)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(valores) + 1.2))
    ax.barh(range(len(valores)), valores, color="tab:blue")
    ax.set_yticks(range(len(valores)), etiquetas, fontsize=8)
    ax.invert_yaxis()  # la mejor arriba
    ax.set_xlabel(eje_x)
    ax.set_title(f"{eje_x} (la mejor arriba)")
    return ax


def prediccion(imagen, superpuesta, probs, clases, titulo: str = "", ejes=None):
    """La imagen, su Grad-CAM superpuesto (si lo hay) y las probabilidades de cada clase."""
    paneles = 3 if superpuesta is not None else 2
    if ejes is None:
        _, ejes = plt.subplots(1, paneles, figsize=(3.2 * paneles, 3))
    ejes[0].imshow(imagen)
    ejes[0].set_title(titulo, fontsize=9)
    if superpuesta is not None:
        ejes[1].imshow(superpuesta)
        ejes[1].set_title("Grad-CAM: dónde mira la red", fontsize=9)
    for eje in ejes[: paneles - 1]:
        eje.axis("off")
    ejes[-1].barh(range(len(clases)), probs, color="tab:orange")
    ejes[-1].set_yticks(range(len(clases)), clases, fontsize=8)
    ejes[-1].invert_yaxis()
    ejes[-1].set_xlim(0, 1)
    ejes[-1].set_xlabel("probabilidad")
    ejes[0].figure.tight_layout()
    return ejes


def curva_descongelar(puntos: dict[int, dict], n: int, red: str, ax=None):
    """Exactitud en prueba y validación frente al número de bloques descongelados, con el elegido marcado."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    ns = sorted(puntos)
    ax.plot(ns, [puntos[k]["test_accuracy"] for k in ns], "-o", label="prueba")
    ax.plot(ns, [puntos[k].get("val_accuracy", np.nan) for k in ns], "--o", label="validación", alpha=0.7)
    ax.plot([n], [puntos[n]["test_accuracy"]], "o", color="tab:red", markersize=12, label="elegido")
    ax.set_xticks(ns)
    ax.set_xlabel("bloques superiores descongelados")
    ax.set_ylabel("exactitud")
    ax.set_title(f"{red}: ¿cuántos bloques descongelar?")
    ax.legend(fontsize=8)
    return ax


# --- Gráficas de la comparativa ----------------------------------------------------------------

_COLORES = {
    "desde_cero": "tab:gray",
    "extraccion": "tab:blue",
    "extraccion_nativa": "tab:purple",
    "extraccion_continuada": "tab:cyan",
    "fine_tuning": "tab:orange",
}
_MARCAS = {
    "desde_cero": "s",
    "extraccion": "o",
    "extraccion_nativa": "D",
    "extraccion_continuada": "v",
    "fine_tuning": "^",
}


def grafico_barras(filas: list[dict], ax=None, titulo: str = "Exactitud en prueba por red y estrategia"):
    """Barras agrupadas de exactitud; la CNN desde cero es una línea base horizontal."""
    redes = [r for r in dict.fromkeys(f["arquitectura"] for f in filas) if r != ARQ_DESDE_CERO]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(5, 1.6 * len(redes) + 2), 3.8))
    x = np.arange(len(redes))
    presentes = [e for e in COLUMNAS_TABLA[1:] if any(f["estrategia"] == e for f in filas)]
    ancho = 0.8 / max(len(presentes), 1)
    for i, estrategia in enumerate(presentes):
        valores = [
            next(
                (f["test_accuracy"] for f in filas if f["arquitectura"] == r and f["estrategia"] == estrategia), np.nan
            )
            for r in redes
        ]
        desplazamiento = (i - (len(presentes) - 1) / 2) * ancho
        barras = ax.bar(
            x + desplazamiento, valores, ancho, label=NOMBRES_ESTRATEGIA[estrategia], color=_COLORES[estrategia]
        )
        ax.bar_label(barras, fmt="%.2f", fontsize=8)
    for f in filas:
        if f["estrategia"] == "desde_cero":
            ax.axhline(
                f["test_accuracy"],
                color=_COLORES["desde_cero"],
                linestyle="--",
                label=f"desde cero ({formato.decimal(f['test_accuracy'], 2)})",
            )
    etiquetas = [
        titulo_red(r) + ("\n⚠ pesos aleatorios" if any(f["aleatorio"] for f in filas if f["arquitectura"] == r) else "")
        for r in redes
    ]
    _linea_azar(ax, filas)
    ax.set_xticks(x, etiquetas, fontsize=8)
    ax.set_ylim(0, 1.22)
    ax.set_ylabel("exactitud en prueba")
    ax.set_title(titulo)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.figure.tight_layout()
    return ax


def _linea_azar(ax, filas) -> None:
    clases = next((f.get("clases") for f in filas if f.get("clases")), None)
    if clases:
        ax.axhline(1 / clases, color="black", linestyle=":", linewidth=1, label=f"azar (1/{clases})")


def _eje_log(eje, valores) -> None:
    """Escala logarítmica con marcas en los valores medidos y números normales (no 10^x)."""
    import matplotlib.ticker as mticker

    eje.set_xscale("log")
    marcas = sorted({round(v, 1) for v in valores})
    if len(marcas) <= 8:
        eje.set_xticks(marcas)
    eje.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    eje.xaxis.set_minor_formatter(mticker.NullFormatter())


def grafico_tiempo(filas: list[dict], ax=None, titulo: str = "Exactitud frente a tiempo de entrenamiento"):
    """Dispersión exactitud en prueba frente a segundos de entrenamiento (escala log)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    for estrategia in COLUMNAS_TABLA:
        sel = [f for f in filas if f["estrategia"] == estrategia]
        if not sel:
            continue
        ax.scatter(
            [f["segundos_total"] for f in sel],
            [f["test_accuracy"] for f in sel],
            marker=_MARCAS[estrategia],
            color=_COLORES[estrategia],
            label=NOMBRES_ESTRATEGIA[estrategia],
            s=50,
        )
        for f in sel:
            ax.annotate(
                f["red"] + (" ⚠" if f["aleatorio"] else ""),
                (f["segundos_total"], f["test_accuracy"]),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
    _eje_log(ax, [f["segundos_total"] for f in filas])
    _linea_azar(ax, filas)
    return _rematar_exactitud(ax, "tiempo de entrenamiento (s, escala logarítmica)", titulo)


def _rematar_exactitud(ax, eje_x: str, titulo: str):
    """Ejes, título y leyenda comunes a las gráficas de exactitud en prueba."""
    ax.set_xlabel(eje_x)
    ax.set_ylabel("exactitud en prueba")
    ax.set_ylim(0, 1.05)
    ax.set_title(titulo)
    ax.legend(fontsize=8, loc="upper left")
    ax.figure.tight_layout()
    return ax


def grafico_curva(puntos: list[dict], ax=None, titulo: str = "Curva de datos: exactitud frente a imágenes por clase"):
    """Exactitud media en prueba frente a imágenes por clase, con el rango entre semillas."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    for arq, estrategia in dict.fromkeys((p["arquitectura"], p["estrategia"]) for p in puntos):
        sel = sorted(
            (p for p in puntos if p["arquitectura"] == arq and p["estrategia"] == estrategia),
            key=lambda p: p["imagenes_reales_por_clase"],
        )
        x = [p["imagenes_reales_por_clase"] for p in sel]
        y = [p["media"] for p in sel]
        err = [[p["media"] - p["minimo"] for p in sel], [p["maximo"] - p["media"] for p in sel]]
        red = "" if estrategia == "desde_cero" else f" · {titulo_red(arq)}"
        aviso = " ⚠ pesos aleatorios" if estrategia != "desde_cero" and sel[0]["pesos"] == "aleatorios" else ""
        ax.errorbar(
            x,
            y,
            yerr=err,
            marker=_MARCAS[estrategia],
            color=_COLORES[estrategia],
            capsize=3,
            label=f"{NOMBRES_ESTRATEGIA[estrategia]}{red}{aviso}",
        )
    _eje_log(ax, [p["imagenes_reales_por_clase"] for p in puntos])
    _linea_azar(ax, [{"clases": p.get("clases")} for p in puntos])
    return _rematar_exactitud(ax, "imágenes de entrenamiento por clase (escala logarítmica)", titulo)
