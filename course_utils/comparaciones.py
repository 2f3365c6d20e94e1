"""Comparaciones y conclusiones de la comparativa, redactadas a partir de los números medidos.

Cada frase sale de la tabla y de la curva (`resultados`): qué estrategia elige la validación en cada red,
si una estrategia supera a otra según la prueba de McNemar sobre las mismas imágenes, qué aísla cada control
(las épocas extra, el tamaño de entrada) y qué dice la curva de datos. Nada se escribe a mano.
"""

from __future__ import annotations

import statistics

from course_utils import formato
from course_utils.estadistica import comparar, margen_error
from course_utils.estrategias import EXTRACCION_NATIVA, NOMBRES_ESTRATEGIA, TASA_AJUSTE_FINO, TASA_CABEZA, titulo_red
from course_utils.resultados import clave_validacion, miles


def conclusiones(filas: list[dict], puntos: list[dict] | None = None, modo: str = "") -> str:
    """Conclusiones en Markdown leídas de la tabla medida, con las contradicciones explicadas."""
    if not filas:
        return "No hay resultados que comentar: la rejilla está vacía."
    lineas: list[str] = []
    if modo == "rapido":
        lineas.append("> **Modo rápido:** muy pocas imágenes y épocas; estas conclusiones son solo orientativas.\n")
    if any(f["datos"] == "demo" for f in filas):
        lineas.append(
            "> **Datos sintéticos de demostración:** no son fotos reales; las cifras no se trasladan a flores.\n"
        )
    base = next((f for f in filas if f["estrategia"] == "desde_cero"), None)
    por_red: dict[str, dict[str, dict]] = {}
    for f in filas:
        if f["estrategia"] != "desde_cero":
            por_red.setdefault(f["arquitectura"], {})[f["estrategia"]] = f
    n_prueba = filas[0]["imagenes_prueba"]
    media = statistics.fmean(f["test_accuracy"] for f in filas)
    lineas.append(
        f"Con {n_prueba} imágenes de prueba, cada imagen acertada vale {formato.decimal(1 / max(n_prueba, 1), 3)} de exactitud y, "
        f"para una exactitud como la media de la tabla ({formato.decimal(media, 2)}), el margen de error del 95 % es de unos "
        f"±{formato.decimal(margen_error(media, n_prueba), 3)}. Para decir «A supera a B» no basta con restar exactitudes: se usa "
        "la prueba de McNemar sobre las mismas imágenes de prueba (p < 0,05); la estrategia de cada red se elige "
        "por validación, nunca por la prueba. "
        f"El azar (una clase de {filas[0]['clases']} al tuntún) daría {formato.decimal(1 / max(filas[0]['clases'], 1), 2)}.\n"
    )
    if base:
        lineas.append(
            f"- **Línea base, CNN desde cero:** exactitud {formato.decimal(base['test_accuracy'], 3)} "
            f"en {formato.decimal(base['segundos_total'], 0)} s "
            f"({base['epocas']} épocas, {miles(base['parametros_entrenables'])} parámetros entrenables)."
        )
    lineas += [_conclusion_red(red, fs, base) for red, fs in por_red.items()]
    lineas += _contradicciones(por_red, base)
    if puntos:
        lineas += _conclusion_curva(puntos)
    return "\n".join(lineas)


def _conclusion_red(red: str, fs: dict[str, dict], base: dict | None) -> str:
    elegida = max(fs.values(), key=clave_validacion)
    muestra = next(iter(fs.values()))
    aviso = " ⚠" if muestra["aleatorio"] else ""
    partes = [
        (
            f"- **{titulo_red(red)}**{aviso} (pesos: {muestra['origen_pesos']}): elegida por validación, "
            f"**{NOMBRES_ESTRATEGIA[elegida['estrategia']]}** (validación {formato.decimal(elegida['val_accuracy'], 3)}, "
            f"prueba {formato.decimal(elegida['test_accuracy'], 3)})."
        )
    ]
    ext, ft = fs.get("extraccion"), fs.get("fine_tuning")
    if ext and base:
        partes.append(
            f"La extracción saca {formato.decimal(ext['test_accuracy'] - base['test_accuracy'], 3, signo=True)} "
            f"a la CNN desde cero ({comparar(ext, base)[1]}) entrenando solo "
            f"{miles(ext['parametros_entrenables'])} parámetros."
        )
    if ext and fs.get(EXTRACCION_NATIVA):
        partes.append(_frase_nativa(fs[EXTRACCION_NATIVA], ext))
    if ext and ft:
        dif = ft["test_accuracy"] - ext["test_accuracy"]
        signo, prueba = comparar(ft, ext)
        veredicto = {0: "no se distingue de la extracción", 1: "mejora a la extracción"}.get(
            signo, "empeora respecto a la extracción"
        )
        coste = ft["segundos_total"] / max(ext["segundos_total"], 1e-9)
        partes.append(
            f"El ajuste fino {veredicto} ({formato.decimal(dif, 3, signo=True)}; {prueba}) y cuesta {formato.decimal(ft['segundos_total'], 0)} s "
            f"frente a {formato.decimal(ext['segundos_total'], 0)} s (×{formato.decimal(coste, 1)}, con su fase 1 incluida)."
        )
    control = fs.get("extraccion_continuada")
    if control and ft:
        signo, prueba = comparar(ft, control)
        que = {0: "no se distingue del", 1: "supera al"}.get(signo, "queda por debajo del")
        partes.append(
            f"Con las mismas épocas extra y la base congelada (control), el ajuste fino {que} control "
            f"({formato.decimal(ft['test_accuracy'] - control['test_accuracy'], 3, signo=True)}; {prueba}): "
            + (
                "la ganancia se debe a descongelar, no solo a entrenar más."
                if signo > 0
                else "no hay ganancia atribuible a descongelar la base."
            )
        )
    return " ".join(partes)


def _frase_nativa(nat: dict, ext: dict) -> str:
    """El control del tamaño: la misma extracción en caché al tamaño nativo frente al del modo, con McNemar."""
    signo, prueba = comparar(nat, ext)
    que = {0: "no se distingue de", 1: "supera a"}.get(signo, "queda por debajo de")
    medias = ""
    if len(nat["test_semillas"]) > 1 and len(ext["test_semillas"]) > 1:
        d = formato.decimal
        medias = (f"; media de {len(nat['test_semillas'])} semillas, {d(statistics.mean(nat['test_semillas']), 3)} frente a "
                  f"{d(statistics.mean(ext['test_semillas']), 3)}")  # fmt: skip
    return (
        f"Al tamaño nativo ({nat['tam_imagen']} px), la misma extracción en caché {que} la de {ext['tam_imagen']} px "
        f"({formato.decimal(nat['test_accuracy'] - ext['test_accuracy'], 3, signo=True)}; {prueba}{medias}) y cuesta "
        f"{formato.decimal(nat['segundos_total'], 0)} s frente a {formato.decimal(ext['segundos_total'], 0)} s."
    )


def _contradicciones(por_red, base) -> list[str]:
    """Contrasta cada red con lo esperado en los libros y da causas plausibles cuando no coincide."""
    avisos = []
    for red, fs in por_red.items():
        ext, ft = fs.get("extraccion"), fs.get("fine_tuning")
        titulo, causas = titulo_red(red), _causas(next(iter(fs.values())))
        if ext and base:
            veredicto, _ = comparar(ext, base)
            if veredicto < 0:
                avisos.append(
                    f"- ⚠ **Contradice lo esperado:** con {titulo}, la extracción ({formato.decimal(ext['test_accuracy'], 3)}) queda "
                    f"por debajo de la CNN desde cero ({formato.decimal(base['test_accuracy'], 3)}). Causas plausibles: {causas}."
                )
            elif veredicto == 0:
                avisos.append(
                    f"- Con {titulo}, la extracción y la CNN desde cero no se distinguen: no se puede confirmar la "
                    f"ventaja esperada de los pesos preentrenados. Causas plausibles: {causas}."
                )
        if ext and ft:
            veredicto, _ = comparar(ft, ext)
            if veredicto < 0:
                avisos.append(
                    f"- ⚠ **Contradice lo esperado:** con {titulo}, el ajuste fino ({formato.decimal(ft['test_accuracy'], 3)}) empeora "
                    f"la extracción ({formato.decimal(ext['test_accuracy'], 3)}). Al descongelar, las capas altas pueden "
                    f"sobreajustarse a tan pocas imágenes. Otras causas plausibles: {causas}."
                )
            elif veredicto == 0:
                avisos.append(
                    f"- Con {titulo}, el ajuste fino no se separa de la extracción (tasa {formato.decimal(TASA_AJUSTE_FINO)}, "
                    f"{ft['epocas'] - ext['epocas']} épocas de extremo a extremo sobre "
                    f"{ft['imagenes_entrenamiento']} imágenes). Es compatible con lo esperado (una mejora pequeña, "
                    "no grande), pero no la demuestra; el artículo 2 ya avisa de que no siempre mejora."
                )
    if not avisos:
        avisos.append("- Todos los resultados coinciden con lo esperado según la prueba pareada (McNemar, p < 0,05).")
    return [
        "",
        "**¿Coincide con lo esperado?** Con pocos datos se espera extracción > desde cero y ajuste fino ≥ extracción.",
        *avisos,
    ]


def _causas(fila: dict) -> str:
    causas = []
    if fila["aleatorio"]:
        causas.append("los pesos de esta red son ALEATORIOS: no hay nada que transferir")
    if fila["epocas"] <= 6:
        causas.append(f"presupuesto corto ({fila['epocas']} épocas en total)")
    if fila["imagenes_por_clase"] and fila["imagenes_por_clase"] < 50:
        causas.append(f"solo {fila['imagenes_por_clase']} imágenes de entrenamiento por clase")
    if fila["imagenes_prueba"] < 100:
        causas.append(f"prueba pequeña ({fila['imagenes_prueba']} imágenes): mucho ruido")
    if fila["datos"] == "demo":
        causas.append("datos sintéticos, muy distintos de ImageNet")
    causas.append(
        f"tasa de aprendizaje fija (cabeza {formato.decimal(TASA_CABEZA)}, ajuste fino {formato.decimal(TASA_AJUSTE_FINO)}) sin ajustar"
    )
    return "; ".join(causas)


def _conclusion_curva(puntos: list[dict]) -> list[str]:
    lineas = ["", "**Curva de datos:**"]
    por_estrategia: dict[str, list[dict]] = {}
    for p in sorted(puntos, key=lambda p: p["imagenes_reales_por_clase"]):
        por_estrategia.setdefault(p["estrategia"], []).append(p)
    for estrategia, ps in por_estrategia.items():
        semillas = "–".join(sorted({str(p["semillas"]) for p in ps}))
        if len(ps) == 1:  # un solo punto (el control con todas las imágenes): no hay tendencia que contar
            lineas.append(f"- {NOMBRES_ESTRATEGIA[estrategia]}: {_punto(ps[0])} ({semillas} semilla(s)).")
            continue
        lineas.append(
            f"- {NOMBRES_ESTRATEGIA[estrategia]}: {_punto(ps[0])} → {_punto(ps[-1])} "
            f"({formato.decimal(ps[-1]['media'] - ps[0]['media'], 3, signo=True)}; {semillas} semilla(s) por punto)."
        )
    ext = por_estrategia.get("extraccion")
    if ext and len(ext) > 2:
        lineas.append(_estancamiento(ext))
    cero = {round(p["imagenes_reales_por_clase"]): p for p in por_estrategia.get("desde_cero", [])}
    comunes = [p for p in ext or [] if round(p["imagenes_reales_por_clase"]) in cero]
    if len(comunes) > 1:  # la ventaja se compara con las mismas imágenes por clase en las dos estrategias
        primero, ultimo = comunes[0], comunes[-1]
        gap0 = primero["media"] - cero[round(primero["imagenes_reales_por_clase"])]["media"]
        gap1 = ultimo["media"] - cero[round(ultimo["imagenes_reales_por_clase"])]["media"]
        if gap0 > gap1:
            texto = "la ventaja de los pesos preentrenados es mayor cuantos menos datos hay, como se espera"
        else:
            texto = "la ventaja NO se reduce al crecer los datos, al contrario de lo esperado; la curva tiene ruido"
        lineas.append(
            f"- Ventaja de la extracción sobre desde cero: {formato.decimal(gap0, 3, signo=True)} con "
            f"{formato.decimal(primero['imagenes_reales_por_clase'], 0)} imágenes por clase y "
            f"{formato.decimal(gap1, 3, signo=True)} con {formato.decimal(ultimo['imagenes_reales_por_clase'], 0)}: "
            f"{texto}."
        )
    if cero and ext:
        lineas.append(_cuanto_vale_desde_cero(por_estrategia["desde_cero"][-1], ext))
    return lineas + _ajuste_fino_con_todas(por_estrategia)


def _ajuste_fino_con_todas(por_estrategia: dict[str, list[dict]]) -> list[str]:
    """En el punto más grande con una semilla, el ajuste fino frente a su control y a la extracción (McNemar)."""
    fino = (por_estrategia.get("fine_tuning") or [None])[-1]
    if not fino or not fino["aciertos_prueba"]:
        return []
    n, lineas = fino["imagenes_reales_por_clase"], []
    for estrategia in ("extraccion_continuada", "extraccion"):
        otro = next((p for p in por_estrategia.get(estrategia, []) if p["imagenes_reales_por_clase"] == n), None)
        if otro and otro["aciertos_prueba"]:
            signo, texto = comparar(fino, otro)
            veredicto = {1: "lo supera", -1: "queda por debajo", 0: "no se distingue"}[signo]
            if estrategia == "extraccion_continuada" and signo < 1:
                texto += "; no hay ganancia atribuible a descongelar la base"
            a, b = (p["aciertos_prueba"].count("1") / len(p["aciertos_prueba"]) for p in (fino, otro))
            lineas.append(
                f"- Con {formato.decimal(n, 0)} imágenes por clase y la misma semilla, el ajuste fino "
                f"({formato.decimal(a, 3)}) frente a {NOMBRES_ESTRATEGIA[estrategia]} ({formato.decimal(b, 3)}): "
                f"{veredicto} ({texto})."
            )
    return lineas


def _cuanto_vale_desde_cero(cero: dict, ext: list[dict]) -> str:
    """Con cuántas imágenes por clase iguala la extracción lo que logra desde cero con su punto más grande."""
    iguala = next((p for p in ext if p["media"] >= cero["media"]), None)
    if iguala is None:
        return f"- Desde cero llega a {_punto(cero)}; la extracción no lo iguala en ningún punto medido."
    n, media = formato.decimal(iguala["imagenes_reales_por_clase"], 0), formato.decimal(iguala["media"], 3)
    return f"- Desde cero llega a {_punto(cero)}; la extracción lo iguala o supera ya con {n} ({media})."


def _punto(p: dict) -> str:
    n = formato.decimal(p["imagenes_reales_por_clase"], 0)
    return f"{formato.decimal(p['media'], 3)} con {n} imágenes por clase"


def _estancamiento(ext: list[dict]) -> str:
    """Dónde deja de mejorar la extracción: el primer punto a partir del cual la media no sube más que el margen."""
    for i, p in enumerate(ext[:-1]):
        margen = margen_error(p["media"], p.get("imagenes_prueba") or 0)
        if all(q["media"] - p["media"] < margen for q in ext[i + 1 :]):
            return (
                f"- La extracción se estanca a partir de unas {formato.decimal(p['imagenes_reales_por_clase'], 0)} "
                f"imágenes por clase: con más, la media no sube más que el margen de error (±{formato.decimal(margen, 3)})."
            )
    return "- La extracción sigue mejorando hasta el último punto medido: no se ve estancamiento."
