"""El informe de la comparativa en disco: `informe_<modo>.md`, su `.json` y las gráficas PNG.

`escribir_informe` lo guarda al terminar la rejilla y `cargar_informe` lo lee para que el
cuaderno 06 y los widgets muestren resultados sin volver a entrenar.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
from pathlib import Path

from course_utils import config as cfg
from course_utils import formato, graficos
from course_utils.comparaciones import conclusiones
from course_utils.estrategias import TASA_AJUSTE_FINO, TASA_CABEZA, titulo_red
from course_utils.resultados import (
    Informe,
    curva,
    curva_markdown,
    tabla,
    tabla_markdown,
    tabla_pivote_markdown,
)

CARPETA_REFERENCIA = cfg.RAIZ_PROYECTO / "resultados_referencia"
MARCAS_README = (
    "<!-- informe-de-referencia: inicio (generado; no editar a mano) -->",
    "<!-- informe-de-referencia: fin -->",
)


def _rutas(resultados_dir: Path, modo: str) -> dict[str, Path]:
    base = Path(resultados_dir) / f"informe_{modo}"
    return {
        "md": base.with_suffix(".md"),
        "json": base.with_suffix(".json"),
        "barras": Path(f"{base}_exactitud.png"),
        "tiempo": Path(f"{base}_tiempo.png"),
        "curva": Path(f"{base}_curva.png"),
    }


def informe_markdown(
    registros_: list[dict],
    modo: str,
    omitidas: dict[str, str] | None = None,
    registros_curva: list[dict] | None = None,
    imagenes: dict[str, str] | None = None,
) -> str:
    """El informe completo en Markdown: contexto, tabla, conclusiones, curva y gráficas."""
    filas = tabla(registros_)
    puntos = curva(registros_curva or [])
    muestra = filas[0] if filas else {}
    lineas = [
        f"# Comparación controlada de estrategias · modo {modo}",
        "",
        f"Generado el {dt.datetime.now():%Y-%m-%d %H:%M} con `python -m course_utils experimentos`.",
        (
            f"Datos: **{muestra.get('datos', '—')}** · imágenes por clase: "
            f"{muestra.get('imagenes_por_clase') or 'todas'} · "
            f"imágenes de prueba: {muestra.get('imagenes_prueba', '—')} · "
            f"dispositivo: {muestra.get('dispositivo', '—')}."
        ),
        (
            "Mismas particiones, semilla y presupuesto de épocas para todas las celdas; la prueba se evalúa una sola "
            "vez por celda; la cabeza en caché se repite con varias semillas sobre la misma caché (media y rango); "
            f"tasa de la cabeza {formato.decimal(TASA_CABEZA)}, del ajuste fino {formato.decimal(TASA_AJUSTE_FINO)}; "
            "el ajuste fino incluye el tiempo y las épocas de su fase 1."
        ),
    ]
    if modo == "rapido":
        lineas += ["", "> **Modo rápido:** resultados solo orientativos."]
    if any(f["aleatorio"] for f in filas):
        lineas += [
            "",
            "> ⚠ Las filas marcadas usan pesos **ALEATORIOS** en una red preentrenable: no miden transferencia.",
        ]
    if omitidas:
        lineas += ["", "**Redes omitidas:**"] + [f"- {titulo_red(r)}: {m}" for r, m in omitidas.items()]
    lineas += ["", "## Estrategias × redes: exactitud en prueba (segundos de entrenamiento)", ""]
    lineas += [tabla_pivote_markdown(filas), "", "## Detalle de cada celda", "", tabla_markdown(filas)]
    lineas += ["", "## Conclusiones", ""]
    lineas += [conclusiones(filas, puntos, modo)]
    if puntos:
        lineas += ["", "## Curva de datos", "", curva_markdown(puntos)]
    if imagenes:
        lineas += ["", "## Gráficas", ""] + [f"![{k}]({v})" for k, v in imagenes.items()]
    return "\n".join(lineas) + "\n"


def escribir_informe(informe: Informe, resultados_dir: Path) -> Path:
    """Guarda `informe_<modo>.md`, su `.json` y las gráficas PNG en la carpeta de resultados."""
    import matplotlib.pyplot as plt

    rutas = _rutas(resultados_dir, informe.modo)
    rutas["md"].parent.mkdir(parents=True, exist_ok=True)
    imagenes = {}
    filas, puntos = informe.filas, informe.puntos_curva
    for nombre, funcion, datos_ in (
        ("barras", graficos.grafico_barras, filas),
        ("tiempo", graficos.grafico_tiempo, filas),
        ("curva", graficos.grafico_curva, puntos),
    ):
        if not datos_:
            continue
        ax = funcion(datos_)
        ax.figure.savefig(rutas[nombre], dpi=110)
        plt.close(ax.figure)
        imagenes[nombre] = rutas[nombre].name
    contenido = {
        "modo": informe.modo,
        "fecha": dt.datetime.now().isoformat(timespec="seconds"),
        "registros": informe.registros,
        "registros_curva": informe.registros_curva,
        "omitidas": informe.omitidas,
    }
    rutas["json"].write_text(json.dumps(contenido, ensure_ascii=False, indent=1), encoding="utf-8")
    texto = informe_markdown(informe.registros, informe.modo, informe.omitidas, informe.registros_curva, imagenes)
    rutas["md"].write_text(texto, encoding="utf-8")
    return rutas["md"]


def cargar_informe(resultados_dir: Path, modo: str) -> Informe | None:
    """Lee el informe de una rejilla ya ejecutada (su `.json`), o None si no existe."""
    rutas = _rutas(resultados_dir, cfg.resolver_modo(modo))
    if not rutas["json"].is_file():
        return None
    try:
        contenido = json.loads(rutas["json"].read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        print(f"AVISO: {rutas['json']} está dañado; se ignora y habrá que volver a ejecutar la rejilla.")
        return None
    if not contenido.get("registros"):
        return None
    return Informe(
        contenido["modo"],
        contenido["registros"],
        contenido.get("registros_curva", []),
        contenido.get("omitidas", {}),
        ruta=rutas["md"] if rutas["md"].is_file() else None,
        referencia=contenido.get("referencia"),
    )


def cargar_referencia(modo: str) -> Informe | None:
    """El informe de referencia versionado con el curso para ese modo (`resultados_referencia/`), o None."""
    leido = cargar_informe(CARPETA_REFERENCIA, modo)
    return leido if leido is not None and leido.referencia else None


def marcar_como_referencia(resultados_dir: Path, modo: str, nota: str = "") -> Path:
    """Copia el informe de `resultados_dir` a `resultados_referencia/` y lo etiqueta como referencia.

    Guarda la fecha, la máquina, las versiones y el origen de los pesos de cada red, para que quien lo lea
    sepa de dónde salen las cifras. Es una tarea de mantenimiento del curso.
    """
    origen = _rutas(resultados_dir, cfg.resolver_modo(modo))
    destino = _rutas(CARPETA_REFERENCIA, cfg.resolver_modo(modo))
    CARPETA_REFERENCIA.mkdir(parents=True, exist_ok=True)
    contenido = json.loads(origen["json"].read_text(encoding="utf-8"))
    contenido["referencia"] = {"fecha": contenido.get("fecha"), **maquina(), "nota": nota}
    destino["json"].write_text(json.dumps(contenido, ensure_ascii=False, indent=1), encoding="utf-8")
    cabecera = (
        f"> **Informe de REFERENCIA** versionado con el curso: medido el {contenido.get('fecha')} en "
        f"{contenido['referencia']['maquina']} ({contenido['referencia']['nucleos']} núcleos, "
        f"TensorFlow {contenido['referencia']['tensorflow']}, Keras {contenido['referencia']['keras']}). "
        "Ejecuta la rejilla en tu máquina para obtener tus propias cifras. " + nota + "\n\n"
    )
    destino["md"].write_text(cabecera + origen["md"].read_text(encoding="utf-8"), encoding="utf-8")
    for clave in ("barras", "tiempo", "curva"):
        if origen[clave].is_file():
            shutil.copyfile(origen[clave], destino[clave])
    return destino["md"]


def maquina() -> dict:
    """La máquina y las versiones con que se mide: procesador, núcleos, sistema y bibliotecas."""
    import keras
    import tensorflow as tf

    return {
        "maquina": _procesador(),
        "nucleos": os.cpu_count(),
        "sistema": platform.platform(terse=True),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def _procesador() -> str:
    """El modelo de CPU (de /proc/cpuinfo en Linux) o, si no se sabe, la arquitectura."""
    try:
        for linea in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if linea.startswith("model name"):
                return linea.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def resumen_para_readme(ref: Informe) -> str:
    """El bloque «Resultados medidos» del README, generado del informe de referencia: tabla, curva y conclusiones."""
    r = ref.referencia or {}
    cabecera = (
        f"Informe de referencia del modo {ref.modo} (`resultados_referencia/informe_{ref.modo}.md`), medido el "
        f"{r.get('fecha', '—')} en {r.get('maquina', '—')} ({r.get('nucleos', '—')} núcleos, TensorFlow "
        f"{r.get('tensorflow', '—')}, Keras {r.get('keras', '—')}). {r.get('nota', '')}".strip()
    )
    lineas = [MARCAS_README[0], cabecera, "", "Exactitud en prueba (segundos de entrenamiento, extracción de la caché"]
    lineas += [
        "incluida); en negrita, la estrategia que se elige por validación:",
        "",
        tabla_pivote_markdown(ref.filas),
    ]
    lineas += ["", conclusiones(ref.filas, ref.puntos_curva, ref.modo)]
    if ref.puntos_curva:
        lineas += ["", curva_markdown(ref.puntos_curva)]
    return "\n".join([*lineas, MARCAS_README[1]])


def actualizar_readme(readme: Path, ref: Informe) -> None:
    """Sustituye en el README el bloque entre las marcas por el resumen del informe de referencia (mantenimiento)."""
    texto = Path(readme).read_text(encoding="utf-8")
    inicio, fin = texto.index(MARCAS_README[0]), texto.index(MARCAS_README[1]) + len(MARCAS_README[1])
    Path(readme).write_text(texto[:inicio] + resumen_para_readme(ref) + texto[fin:], encoding="utf-8")
