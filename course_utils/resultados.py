"""Resultados de la comparativa: tabla, curva de datos, margen de error, comparaciones y conclusiones.

Todo se calcula a partir de los registros de `registros.jsonl`: nada se escribe a mano. Las
gráficas están en `graficos` y los archivos del informe en `informe`.
"""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path

from course_utils import arquitecturas, formato, registros
from course_utils.estadistica import comparar, margen_error
from course_utils.estrategias import (
    ARQ_DESDE_CERO,
    ESTRATEGIAS,
    NOMBRES_ESTRATEGIA,
    TASA_AJUSTE_FINO,
    TASA_CABEZA,
    origen_pesos,
    titulo_red,
)


@dataclasses.dataclass
class Informe:
    """Resultado de una rejilla: registros de la tabla y de la curva, redes omitidas y contadores."""

    modo: str
    registros: list[dict]
    registros_curva: list[dict] = dataclasses.field(default_factory=list)
    omitidas: dict[str, str] = dataclasses.field(default_factory=dict)
    entrenadas: int = 0
    reutilizadas: int = 0
    segundos: float = 0.0
    ruta: Path | None = None
    referencia: dict | None = None  # si es el informe de referencia versionado: fecha, máquina y versiones

    @property
    def filas(self) -> list[dict]:
        """La tabla estrategias × redes."""
        return tabla(self.registros)

    @property
    def puntos_curva(self) -> list[dict]:
        """Los puntos agregados de la curva de datos."""
        return curva(self.registros_curva)


_ORDEN_REDES = {ARQ_DESDE_CERO: -1, **{n: i for i, n in enumerate(arquitecturas.NOMBRES)}}


def tabla(registros_: list[dict]) -> list[dict]:
    """Una fila por (estrategia, red) con el registro más reciente, ordenada."""
    ultimos = registros.ultimos_por_clave(registros_, ("arquitectura", "estrategia"))
    orden_e = {e: i for i, e in enumerate(ESTRATEGIAS)}
    ultimos.sort(key=lambda r: (orden_e.get(r["estrategia"], 9), _ORDEN_REDES.get(r["arquitectura"], 99)))
    return [_fila(r) for r in ultimos]


_CAMPOS_FILA = (
    "estrategia", "arquitectura", "pesos", "test_accuracy", "val_accuracy", "imagenes_prueba", "clases",
    "segundos_total", "segundos_por_epoca", "epocas", "parametros_entrenables", "parametros_totales", "mb_modelo",
    "ms_por_imagen", "datos", "tam_imagen", "imagenes_por_clase", "imagenes_entrenamiento",
)  # fmt: skip


def _fila(r: dict) -> dict:
    return {
        **{k: r[k] for k in _CAMPOS_FILA},
        **{k: r.get(k) for k in ("aciertos_prueba", "memoria_pico_mb", "dispositivo")},
        "red": titulo_red(r["arquitectura"]),
        "origen_pesos": origen_pesos(r),
        "aleatorio": r["estrategia"] != "desde_cero" and r["pesos"] == "aleatorios",
        "test_semillas": [r["test_accuracy"], *r.get("test_accuracy_otras_semillas", [])],
    }


def _miles(n) -> str:
    return formato.entero(n) if isinstance(n, int) else "—"


def _semillas(f: dict) -> str:
    """«; 3 semillas: media 0,818, de 0,812 a 0,825» si la cabeza se repitió con varias semillas."""
    v = f["test_semillas"]
    if len(v) < 2:
        return ""
    d = formato.decimal
    return f"; {len(v)} semillas: media {d(statistics.mean(v), 3)}, de {d(min(v), 3)} a {d(max(v), 3)}"


def tabla_markdown(filas: list[dict]) -> str:
    """La tabla estrategias × redes en Markdown, con el origen de los pesos en cada fila."""
    cabecera = (
        "| Estrategia | Red | Pesos | Exactitud (prueba) | Tiempo (s) | s/época | Épocas | Parám. entrenables "
        "| Parám. totales | MB | ms/imagen | Memoria pico (MB) | Datos |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    lineas = [cabecera]
    for f in filas:
        memoria = f"{formato.decimal(f['memoria_pico_mb'], 0)}" if f["memoria_pico_mb"] else "—"
        red = f"**{f['red']}** ⚠" if f["aleatorio"] else f["red"]
        lineas.append(
            f"| {NOMBRES_ESTRATEGIA.get(f['estrategia'], f['estrategia'])} | {red} | {f['origen_pesos']} "
            f"| {formato.decimal(f['test_accuracy'], 3)} | {formato.decimal(f['segundos_total'], 1)} | {formato.decimal(f['segundos_por_epoca'], 2)} | {f['epocas']} "
            f"| {_miles(f['parametros_entrenables'])} | {_miles(f['parametros_totales'])} | {formato.decimal(f['mb_modelo'], 1)} "
            f"| {formato.decimal(f['ms_por_imagen'], 2)} | {memoria} | {f['datos']} |"
        )
    return "\n".join(lineas)


def tabla_pivote_markdown(filas: list[dict]) -> str:
    """Estrategias en columnas y redes en filas: exactitud en prueba y segundos.

    En negrita, la estrategia que se elige en cada red: la de más exactitud en validación, no en prueba.
    """
    lineas = [
        "| Red | Pesos | Desde cero | Extracción | Extracción continuada (control) | Ajuste fino |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for red in dict.fromkeys(f["arquitectura"] for f in filas):
        suyas = {f["estrategia"]: f for f in filas if f["arquitectura"] == red}
        elegida = max(suyas.values(), key=_clave_validacion)
        celdas = []
        for estrategia in ESTRATEGIAS:
            f = suyas.get(estrategia)
            if f is None:
                celdas.append("—")
                continue
            valor = f"{formato.decimal(f['test_accuracy'], 3)}"
            valor = f"**{valor}**" if len(suyas) > 1 and f is elegida else valor
            celdas.append(f"{valor} ({formato.decimal(f['segundos_total'], 0)} s{_semillas(f)})")
        muestra = next(iter(suyas.values()))
        nombre = f"{muestra['red']} ⚠" if muestra["aleatorio"] else muestra["red"]
        lineas.append(f"| {nombre} | {muestra['origen_pesos']} | " + " | ".join(celdas) + " |")
    return "\n".join(lineas)


def curva(registros_: list[dict]) -> list[dict]:
    """Agrega la curva de datos: media, mínimo y máximo entre semillas por red, estrategia y n."""
    ultimos = registros.ultimos_por_clave(registros_, ("arquitectura", "estrategia", "imagenes_por_clase", "semilla"))
    grupos: dict[tuple, list[dict]] = {}
    for r in ultimos:
        grupos.setdefault((r["arquitectura"], r["estrategia"], r["imagenes_por_clase"]), []).append(r)
    puntos = []
    for (arq, estrategia, n), rs in grupos.items():
        # La extracción en caché trae además las cabezas de otras semillas, entrenadas sobre la misma caché.
        exactitudes = [x for r in rs for x in (r["test_accuracy"], *r.get("test_accuracy_otras_semillas", []))]
        puntos.append(
            {
                "arquitectura": arq,
                "estrategia": estrategia,
                "imagenes_por_clase": n,
                "imagenes_reales_por_clase": rs[0]["imagenes_entrenamiento"] / max(rs[0]["clases"], 1),
                "media": statistics.fmean(exactitudes),
                "minimo": min(exactitudes),
                "maximo": max(exactitudes),
                "semillas": len(exactitudes),
                "clases": rs[0]["clases"],
                "imagenes_prueba": rs[0]["imagenes_prueba"],
                "pesos": rs[0]["pesos"],
                "segundos_medios": statistics.fmean(r["segundos_total"] for r in rs),
                "aciertos_prueba": rs[0].get("aciertos_prueba") if len(rs) == 1 else None,  # para McNemar
            }
        )
    orden_e = {e: i for i, e in enumerate(ESTRATEGIAS)}
    puntos.sort(key=lambda p: (orden_e.get(p["estrategia"], 9), p["imagenes_reales_por_clase"]))
    return puntos


def curva_markdown(puntos: list[dict]) -> str:
    """La curva de datos como tabla Markdown: exactitud media (mín.–máx.) por estrategia y n."""
    lineas = [
        "| Estrategia | Red | Imágenes por clase | Exactitud media | Mín.–máx. | Semillas | Pesos |",
        "|---|---|---:|---:|---|---:|---|",
    ]
    for p in puntos:
        pesos = origen_pesos({"estrategia": p["estrategia"], "pesos": p["pesos"]})
        lineas.append(
            f"| {NOMBRES_ESTRATEGIA[p['estrategia']]} | {titulo_red(p['arquitectura'])} "
            f"| {formato.decimal(p['imagenes_reales_por_clase'], 0)} | {formato.decimal(p['media'], 3)} | {formato.decimal(p['minimo'], 3)}–{formato.decimal(p['maximo'], 3)} "
            f"| {p['semillas']} | {pesos} |"
        )
    return "\n".join(lineas)


# --- Comparaciones y conclusiones a partir de los números ---------------------------------------


def mejor_por_red(filas: list[dict]) -> dict[str, dict]:
    """Para cada red, la fila de la estrategia con mayor exactitud en validación (nunca en prueba)."""
    mejores: dict[str, dict] = {}
    for f in filas:
        if f["arquitectura"] not in mejores or _clave_validacion(f) > _clave_validacion(mejores[f["arquitectura"]]):
            mejores[f["arquitectura"]] = f
    return mejores


def _clave_validacion(f: dict) -> tuple[float, float]:
    """Orden de selección: más exactitud en validación y, a igualdad, menos tiempo. Nunca la prueba."""
    return (f["val_accuracy"], -f["segundos_total"])


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
            f"({base['epocas']} épocas, {_miles(base['parametros_entrenables'])} parámetros entrenables)."
        )
    lineas += [_conclusion_red(red, fs, base) for red, fs in por_red.items()]
    lineas += _contradicciones(por_red, base)
    if puntos:
        lineas += _conclusion_curva(puntos)
    return "\n".join(lineas)


def _conclusion_red(red: str, fs: dict[str, dict], base: dict | None) -> str:
    elegida = max(fs.values(), key=_clave_validacion)
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
            f"{_miles(ext['parametros_entrenables'])} parámetros."
        )
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
