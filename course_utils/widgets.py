"""Paneles interactivos (ipywidgets) para las demostraciones en directo; inofensivos sin navegador.

Cada función construye un panel, lo muestra una sola vez y escribe además un resumen en texto plano, para
que una copia ejecutada con papermill también enseñe algo útil. Nunca bloquean ni lanzan errores por datos
opcionales que falten: explican en español qué falta y cómo conseguirlo. Las gráficas se dibujan con
`matplotlib.figure.Figure` (sin pyplot), así que no aparecen figuras sueltas en el cuaderno.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import ipywidgets as w
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from course_utils import datos, estadistica, estrategias, formato, graficos, temario
from course_utils import registros as reg
from course_utils.panel import Panel
from course_utils.panel import png as _png
from course_utils.panel import pre as _pre

TODAS = "todas"
METRICAS = {  # etiqueta: (clave del registro, True si mayor es mejor)
    "exactitud en prueba": ("test_accuracy", True),
    "exactitud en validación": ("val_accuracy", True),
    "tiempo de entrenamiento (s)": ("segundos_total", False),
    "segundos por época": ("segundos_por_epoca", False),
    "ms por imagen": ("ms_por_imagen", False),
    "tamaño del modelo (MB)": ("mb_modelo", False),
    "memoria pico (MB)": ("memoria_pico_mb", False),
    "parámetros entrenables": ("parametros_entrenables", False),
}
PATRON_DESCONGELAR = re.compile(r"^descongelar_(\d+)$")
SIN_BARRIDO = (
    "No hay registros con etiqueta `descongelar_<N>`: los escribe el barrido «¿cuántos bloques descongelar?» "
    "del cuaderno 05 (notebooks/05_fine_tuning.ipynb) mediante entrenamiento.entrenar_y_evaluar. Ejecútalo "
    "primero con la misma carpeta de resultados (CURSO_RESULTADOS_DIR) y vuelve a llamar a "
    "widgets.control_descongelar(registros.leer(config.resultados_dir))."
)


def _mostrar(panel: Panel, resumen: str) -> Panel:
    display(panel)
    print(resumen)
    return panel


def _vacio(titulo: str, mensaje: str) -> Panel:
    return _mostrar(Panel(titulo, {}, w.HTML(_pre(mensaje))), mensaje)


def _seguro(texto: w.HTML, funcion):
    """Envuelve un callback: un fallo se explica en el panel en vez de perderse en la consola del navegador."""

    def callback(_=None):
        try:
            funcion()
        except Exception as exc:  # noqa: BLE001 - una demostración en directo no debe romperse en silencio
            texto.value = _pre(f"No se pudo actualizar el panel: {type(exc).__name__}: {exc}")

    return callback


def _numero(valor, clave: str) -> str:
    if valor is None:
        return "—"
    if "accuracy" in clave:
        return f"{formato.decimal(valor, 3)}"
    return formato.entero(valor) if isinstance(valor, int) else formato.decimal(valor, 1)


# --- Comparador de resultados --------------------------------------------------------------


def _nombre_fila(r: dict) -> str:
    estrategia = estrategias.NOMBRES_ESTRATEGIA.get(r.get("estrategia"), r.get("estrategia", "?"))
    return f"{estrategias.titulo_red(r.get('arquitectura', '?'))} · {estrategia}"


def _filtrar(filas: list[dict], estrategia: str, red: str, clave: str, mayor: bool) -> list[dict]:
    elegidas = [
        r
        for r in filas
        if estrategia in (TODAS, r.get("estrategia")) and red in (TODAS, r.get("arquitectura"))
        if isinstance(r.get(clave), (int, float))
    ]
    return sorted(elegidas, key=lambda r: r[clave], reverse=mayor)


def _tabla_comparador(filas: list[dict], metrica: str, clave: str) -> str:
    if not filas:
        return f"Ningún registro con «{metrica}» cumple el filtro: elige «{TODAS}» en estrategia o red."
    lineas = [f"{'red · estrategia':<34} {'img/clase':>9}  {metrica:>28}  pesos"]
    for r in filas:
        n = r.get("imagenes_por_clase") or "todas"
        lineas.append(f"{_nombre_fila(r):<34} {n:>9}  {_numero(r[clave], clave):>28}  {estrategias.origen_pesos(r)}")
    return "\n".join(lineas)


def _barras_comparador(filas: list[dict], metrica: str, clave: str) -> Figure:
    varias_n = len({r.get("imagenes_por_clase") for r in filas}) > 1
    etiquetas = [
        _nombre_fila(r) + (f" · {r.get('imagenes_por_clase') or 'todas'}/clase" if varias_n else "") for r in filas
    ]
    fig = Figure(figsize=(7, 0.35 * len(filas) + 1.2))
    graficos.barras_horizontales(etiquetas, [r[clave] for r in filas], metrica, ax=fig.subplots())
    return fig


def comparador_resultados(registros: list[dict]) -> Panel:
    """Tabla y barras de los registros: elige la métrica y filtra por estrategia o red."""
    filas = reg.ultimos_por_clave(list(registros or []))
    if not filas:
        return _vacio(
            "comparador de resultados",
            "No hay registros que comparar: ejecuta la rejilla del cuaderno 06 o "
            "`python -m course_utils experimentos --modo rapido` con la misma carpeta de resultados.",
        )
    metricas = {k: v for k, v in METRICAS.items() if any(isinstance(r.get(v[0]), (int, float)) for r in filas)}
    controles = {
        "metrica": w.Dropdown(options=list(metricas), description="Métrica:"),
        "estrategia": w.Dropdown(
            options=[TODAS, *sorted({r.get("estrategia", "?") for r in filas})], description="Estrategia:"
        ),
        "red": w.Dropdown(options=[TODAS, *sorted({r.get("arquitectura", "?") for r in filas})], description="Red:"),
    }
    texto, imagen = w.HTML(), w.Image(format="png")

    def actualizar():
        metrica = controles["metrica"].value
        clave, mayor = metricas[metrica]
        elegidas = _filtrar(filas, controles["estrategia"].value, controles["red"].value, clave, mayor)
        texto.value = _pre(_tabla_comparador(elegidas, metrica, clave))
        imagen.value = _png(_barras_comparador(elegidas, metrica, clave)) if elegidas else b""

    callback = _seguro(texto, actualizar)
    for control in controles.values():
        control.observe(callback, names="value")
    callback()
    aviso = "Modo rápido: resultados solo orientativos.\n" if any(r.get("modo") == "rapido" for r in filas) else ""
    primera = next(iter(metricas))
    resumen = _tabla_comparador(_filtrar(filas, TODAS, TODAS, *metricas[primera]), primera, metricas[primera][0])
    return _mostrar(Panel("comparador de resultados", controles, texto, imagen), aviso + resumen)


# --- Explorador de predicciones con Grad-CAM -----------------------------------------------


def _probabilidades_y_mapa(modelo, x: np.ndarray, con_gradcam: bool):
    """(probabilidades, mapa o None, aviso): usa Grad-CAM si está disponible y, si no, solo predice."""
    if con_gradcam:
        try:
            from course_utils import gradcam

            mapa, _, probs = gradcam.mapa_gradcam(modelo, x)
            return np.asarray(probs), mapa, ""
        except Exception as exc:  # noqa: BLE001 - Grad-CAM es opcional en este panel
            aviso = f"Grad-CAM no disponible ({type(exc).__name__}: {exc}); se muestran solo las probabilidades."
    else:
        aviso = ""
    return np.asarray(modelo.predict(x[None], verbose=0))[0], None, aviso


def _figura_prediccion(imagen: np.ndarray, superpuesta, probs: np.ndarray, clases: list[str], titulo: str) -> Figure:
    paneles = 3 if superpuesta is not None else 2
    fig = Figure(figsize=(3.2 * paneles, 3))
    graficos.prediccion(imagen, superpuesta, probs, clases, titulo, ejes=fig.subplots(1, paneles))
    return fig


def _explicar(modelo, ruta: Path, clases: list[str], preprocesado, tam: int, con_gradcam: bool) -> tuple[str, Figure]:
    imagen = datos.cargar_imagen(ruta, tam)
    x = imagen.astype("float32")  # copia: algunos preprocess_input modifican su entrada
    x = np.asarray(preprocesado(x) if preprocesado is not None else x, dtype="float32")
    probs, mapa, aviso = _probabilidades_y_mapa(modelo, x, con_gradcam)
    superpuesta = None
    if mapa is not None:
        from course_utils import gradcam

        superpuesta = gradcam.superponer(imagen, mapa)
    i = int(np.argmax(probs))
    real = ruta.parent.name if ruta.parent.name in clases else None
    veredicto = "" if real is None else (" ✔ acierto" if real == clases[i] else f" ✘ error (real: {real})")
    texto = (
        f"{ruta.parent.name}/{ruta.name}: predicción «{clases[i]}» con p = {formato.decimal(probs[i], 2)}{veredicto}"
    )
    return "\n".join(filter(None, [texto, aviso])), _figura_prediccion(imagen, superpuesta, probs, clases, ruta.name)


def explorador_predicciones(modelo, rutas, clases, preprocesado, tam: int) -> Panel:
    """Elige una imagen y mira las probabilidades de cada clase y su Grad-CAM."""
    rutas, clases = [Path(r) for r in (rutas or [])], [str(c) for c in clases]
    if not rutas:
        return _vacio(
            "explorador de predicciones",
            "No hay imágenes que explorar: pasa una lista de rutas, por ejemplo las de la partición de prueba.",
        )
    controles = {
        "imagen": w.Dropdown(
            options=[(f"{i + 1}. {r.parent.name}/{r.name}", i) for i, r in enumerate(rutas)], description="Imagen:"
        ),
        "gradcam": w.Checkbox(value=True, description="Grad-CAM"),
    }
    texto, imagen = w.HTML(), w.Image(format="png")

    def actualizar():
        resumen, fig = _explicar(
            modelo, rutas[controles["imagen"].value], clases, preprocesado, tam, controles["gradcam"].value
        )
        texto.value = _pre(resumen)
        imagen.value = _png(fig)

    callback = _seguro(texto, actualizar)
    for control in controles.values():
        control.observe(callback, names="value")
    callback()
    resumen = re.sub(r"<[^>]+>", "", html.unescape(texto.value))
    return _mostrar(Panel("explorador de predicciones", controles, texto, imagen), resumen)


# --- ¿Y si descongelo N bloques? ------------------------------------------------------------


def barrido_descongelar(registros: list[dict]) -> dict[str, dict[int, dict]]:
    """Registros `descongelar_<N>` agrupados por red y N, el más reciente de cada uno."""
    barrido: dict[str, dict[int, dict]] = {}
    for r in sorted(registros or [], key=lambda r: r.get("fecha", "")):
        coincide = PATRON_DESCONGELAR.match(str(r.get("etiqueta", "")))
        if coincide and isinstance(r.get("test_accuracy"), (int, float)):
            barrido.setdefault(r.get("arquitectura", "?"), {})[int(coincide.group(1))] = r
    return barrido


def _texto_descongelar(puntos: dict[int, dict], n: int, red: str) -> str:
    r, n0 = puntos[n], min(puntos)
    lineas = [
        f"{estrategias.titulo_red(red)} con {n} bloque(s) superiores descongelados: exactitud en prueba "
        f"{formato.decimal(r['test_accuracy'], 3)} (validación {formato.decimal(r.get('val_accuracy', float('nan')), 3)}), "
        f"{_numero(r.get('parametros_entrenables'), 'p')} parámetros entrenables, {formato.decimal(r.get('segundos_total', 0), 1)} s."
    ]
    if n != n0:
        base = puntos[n0]
        diferencia = r["test_accuracy"] - base["test_accuracy"]
        margen = estadistica.margen_error(base["test_accuracy"], int(base.get("imagenes_prueba") or 0))
        if abs(diferencia) <= margen:
            veredicto = f"una diferencia de {formato.decimal(diferencia, 3, signo=True)}, dentro del margen de error (±{formato.decimal(margen, 3)}): no distingue"
        else:
            veredicto = f"{'mejora' if diferencia > 0 else 'empeora'} en {formato.decimal(abs(diferencia), 3)} (margen ±{formato.decimal(margen, 3)})"
        lineas.append(f"Frente a {n0} bloque(s): {veredicto}.")
    if r.get("modo") == "rapido":
        lineas.append("Modo rápido: resultados solo orientativos.")
    return "\n".join(lineas)


def _figura_descongelar(puntos: dict[int, dict], n: int, red: str) -> Figure:
    fig = Figure(figsize=(6, 3.2))
    graficos.curva_descongelar(puntos, n, estrategias.titulo_red(red), ax=fig.subplots())
    return fig


def control_descongelar(registros: list[dict]) -> Panel:
    """Deslizador «¿y si descongelo N bloques?» sobre el barrido ya medido `descongelar_<N>`."""
    barrido = barrido_descongelar(registros)
    if not barrido:
        return _vacio("¿cuántos bloques descongelar?", SIN_BARRIDO)
    redes = sorted(barrido)
    controles = {
        "red": w.Dropdown(options=[(estrategias.titulo_red(r), r) for r in redes], description="Red:"),
        "bloques": w.SelectionSlider(
            options=sorted(barrido[redes[0]]), description="Bloques:", continuous_update=False
        ),
    }
    texto, imagen = w.HTML(), w.Image(format="png")

    def actualizar():
        puntos, n = barrido[controles["red"].value], controles["bloques"].value
        if n in puntos:  # al cambiar de red, las opciones del deslizador cambian antes que su valor
            texto.value = _pre(_texto_descongelar(puntos, n, controles["red"].value))
            imagen.value = _png(_figura_descongelar(puntos, n, controles["red"].value))

    def cambiar_red(_=None):
        controles["bloques"].options = sorted(barrido[controles["red"].value])
        callback()

    callback = _seguro(texto, actualizar)
    controles["bloques"].observe(callback, names="value")
    controles["red"].observe(_seguro(texto, cambiar_red), names="value")
    callback()
    resumen = "\n".join(
        f"{estrategias.titulo_red(red)}: "
        + ", ".join(
            f"{n} bloque(s) → {formato.decimal(p['test_accuracy'], 3)}" for n, p in sorted(barrido[red].items())
        )
        for red in redes
    )
    return _mostrar(
        Panel("¿cuántos bloques descongelar?", controles, texto, imagen),
        "Exactitud en prueba por bloques descongelados:\n" + resumen,
    )


# --- Subir una imagen y predecir ------------------------------------------------------------


def _modelo_y_metadatos(modelo_o_ruta):
    """(modelo, metadatos) de una ruta `.keras` exportada o de la pareja que devuelve `cargar_exportado`."""
    if isinstance(modelo_o_ruta, (str, Path)):
        from course_utils import exportacion

        return exportacion.cargar_exportado(modelo_o_ruta)
    if isinstance(modelo_o_ruta, tuple) and len(modelo_o_ruta) == 2:
        return modelo_o_ruta
    raise ValueError(
        "subir_y_predecir necesita la ruta del .keras exportado o la pareja (modelo, metadatos) que devuelve "
        "exportacion.cargar_exportado: un modelo suelto no dice sus clases, su tamaño ni su preprocesado."
    )


def _prediccion_subida(modelo, metadatos: dict, archivo: dict) -> tuple[str, Figure]:
    from course_utils import exportacion

    try:
        imagen = datos.cargar_imagen(bytes(archivo["content"]))
    except Exception as exc:  # noqa: BLE001 - PIL lanza varios tipos con archivos que no son imágenes
        nombre = archivo.get("name", "el archivo")
        return f"{nombre} no se puede leer como imagen ({type(exc).__name__}). Sube un JPG o PNG.", None
    pred = exportacion.predecir_imagen(modelo, metadatos, imagen)
    clases = list(metadatos["clases"])
    probs = np.array([pred["probabilidades"][c] for c in clases])
    texto = f"{archivo.get('name', 'imagen')}: «{pred['clase']}» con p = {formato.decimal(pred['probabilidad'], 2)}"
    return texto, _figura_prediccion(imagen, None, probs, clases, archivo.get("name", ""))


def subir_y_predecir(modelo_o_ruta) -> Panel:
    """Sube una imagen con el botón y mira la predicción del modelo exportado."""
    try:
        modelo, metadatos = _modelo_y_metadatos(modelo_o_ruta)
    except (OSError, ValueError) as exc:  # FileNotFoundError y exportacion.ModeloNoValido incluidos
        return _vacio("subir y predecir", f"No se puede preparar el panel de predicción: {exc}")
    controles = {"subida": w.FileUpload(accept="image/*", multiple=False, description="Subir imagen")}
    texto, imagen = (
        w.HTML(_pre("Sube una imagen (JPG o PNG) con el botón para ver la predicción.")),
        w.Image(format="png"),
    )

    def actualizar():
        subidas = controles["subida"].value
        if subidas:
            resumen, fig = _prediccion_subida(modelo, metadatos, subidas[-1])
            texto.value = _pre(resumen)
            imagen.value = _png(fig) if fig is not None else b""

    controles["subida"].observe(_seguro(texto, actualizar), names="value")
    resumen = (
        f"Modelo {metadatos.get('arquitectura')} ({metadatos.get('estrategia')}), {metadatos.get('tam')} px, "
        f"clases: {', '.join(map(str, metadatos.get('clases', [])))}. Sube una imagen con el botón del panel "
        "(solo en JupyterLab o Jupyter Notebook); sin navegador, usa exportacion.predecir(modelo, RUTA)."
    )
    return _mostrar(Panel("subir y predecir", controles, texto, imagen), resumen)


# --- Mapa del curso -------------------------------------------------------------------------


def _markdown_ligero(texto: str) -> str:
    texto = html.escape(texto)
    texto = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", texto)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", texto)


def _html_ficha(ficha: dict, tiempos: dict[str, str]) -> str:
    objetivos = (
        "".join(f"<li>{_markdown_ligero(o)}</li>" for o in ficha["objetivos"]) or "<li>(sin sección Objetivos)</li>"
    )
    por_modo = " · ".join(
        f"{etiqueta}: {_markdown_ligero(tiempos.get(modo, 'ver README'))}" for modo, etiqueta in temario.MODOS
    )
    return (
        f"<h4>{html.escape(ficha['titulo'])}</h4><code>notebooks/{ficha['nombre']}.ipynb</code><ul>{objetivos}</ul>"
        f"<p><b>Tiempo</b> — {por_modo}</p>"
        "<small>Tiempos del temario del README (medidos en una CPU de 2 núcleos o estimados); "
        "cada cuaderno imprime los de tu máquina.</small>"
    )


def mapa_del_curso(carpeta: Path | None = None) -> Panel:
    """Los cuadernos del curso en orden, con sus objetivos y su tiempo por modo."""
    fichas = temario.fichas(carpeta)
    if not fichas:
        return _vacio("mapa del curso", f"No hay cuadernos NN_*.ipynb en {carpeta or 'notebooks/'}.")
    tiempos = temario.tiempos(carpeta)
    controles = {
        "cuaderno": w.Dropdown(options=[(f["titulo"], i) for i, f in enumerate(fichas)], description="Cuaderno:")
    }
    controles["cuaderno"].layout.width = "40em"
    texto = w.HTML()

    def actualizar():
        ficha = fichas[controles["cuaderno"].value]
        texto.value = _html_ficha(ficha, tiempos.get(ficha["nombre"], {}))

    callback = _seguro(texto, actualizar)
    controles["cuaderno"].observe(callback, names="value")
    callback()
    resumen = "\n".join(
        f"{f['nombre']:<36} "
        + " · ".join(
            f"{etiqueta} {tiempos.get(f['nombre'], {}).get(modo, 'ver README')}" for modo, etiqueta in temario.MODOS
        )
        for f in fichas
    )
    return _mostrar(Panel("mapa del curso", controles, texto), "Cuadernos disponibles y tiempo por modo:\n" + resumen)
