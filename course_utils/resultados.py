"""Resultados de la comparativa: la tabla, la curva de datos y la selección por validación.

Todo se calcula a partir de los registros de `registros.jsonl`: nada se escribe a mano. Las
conclusiones en palabras están en `comparaciones`, las gráficas en `graficos` y los archivos del
informe en `informe`.
"""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path

from course_utils import arquitecturas, formato, registros
from course_utils.estrategias import (
    ARQ_DESDE_CERO,
    COLUMNAS_TABLA,
    EXTRACCION_NATIVA,
    NOMBRES_ESTRATEGIA,
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
    orden_e = {e: i for i, e in enumerate(COLUMNAS_TABLA)}
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


def miles(n) -> str:
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
            f"| {miles(f['parametros_entrenables'])} | {miles(f['parametros_totales'])} | {formato.decimal(f['mb_modelo'], 1)} "
            f"| {formato.decimal(f['ms_por_imagen'], 2)} | {memoria} | {f['datos']} |"
        )
    return "\n".join(lineas)


def _titulo_columna(estrategia: str) -> str:
    """El nombre de la estrategia con mayúscula; la columna nativa dice además que es un control."""
    nombre = NOMBRES_ESTRATEGIA[estrategia]
    return nombre[0].upper() + nombre[1:] + (" (control del tamaño)" if estrategia == EXTRACCION_NATIVA else "")


def tabla_pivote_markdown(filas: list[dict]) -> str:
    """Estrategias en columnas y redes en filas: exactitud en prueba y segundos.

    En negrita, la estrategia que se elige en cada red: la de más exactitud en validación, no en prueba.
    """
    columnas = [e for e in COLUMNAS_TABLA if e != EXTRACCION_NATIVA or any(f["estrategia"] == e for f in filas)]
    lineas = [
        "| Red | Pesos | " + " | ".join(_titulo_columna(e) for e in columnas) + " |",
        "|---|---|" + "---:|" * len(columnas),
    ]
    for red in dict.fromkeys(f["arquitectura"] for f in filas):
        suyas = {f["estrategia"]: f for f in filas if f["arquitectura"] == red}
        elegida = max(suyas.values(), key=clave_validacion)
        celdas = []
        for estrategia in columnas:
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
    orden_e = {e: i for i, e in enumerate(COLUMNAS_TABLA)}
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


# --- Selección por validación ------------------------------------------------------------------


def mejor_por_red(filas: list[dict]) -> dict[str, dict]:
    """Para cada red, la fila de la estrategia con mayor exactitud en validación (nunca en prueba)."""
    mejores: dict[str, dict] = {}
    for f in filas:
        if f["arquitectura"] not in mejores or clave_validacion(f) > clave_validacion(mejores[f["arquitectura"]]):
            mejores[f["arquitectura"]] = f
    return mejores


def clave_validacion(f: dict) -> tuple[float, float]:
    """Orden de selección: más exactitud en validación y, a igualdad, menos tiempo. Nunca la prueba."""
    return (f["val_accuracy"], -f["segundos_total"])
