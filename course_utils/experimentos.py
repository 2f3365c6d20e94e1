"""Comparación controlada: rejilla estrategias × redes, curva de datos e informe.

Cada celda de la rejilla pasa por `entrenamiento.entrenar_y_evaluar`, con las mismas particiones,
la misma semilla y el mismo presupuesto de épocas. Las tres estrategias son las de los cuadernos
02 (desde cero), 04 (extracción de características) y 05 (ajuste fino); aquí sus constructores son
funciones pequeñas para que el cuaderno 06 pueda mostrarlas y reutilizarlas.

Uso desde la línea de órdenes:

    python -m course_utils experimentos --modo clase [--arquitecturas ...] [--estrategias ...] [--curva]

(las opciones se definen en `course_utils/__main__.py`).

La rejilla se puede interrumpir: al volver a lanzarla, las celdas que ya tienen un registro
terminado (misma red, estrategia, modo, imágenes por clase, semilla, tamaño, datos y presupuesto)
no se vuelven a entrenar.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import io
import json
import math
import statistics
import time
from pathlib import Path

import keras

from course_utils import arquitecturas, datos, entrenamiento, registros
from course_utils import config as cfg

ESTRATEGIAS = ("desde_cero", "extraccion", "fine_tuning")
NOMBRES_ESTRATEGIA = {"desde_cero": "desde cero", "extraccion": "extracción", "fine_tuning": "ajuste fino"}
ARQ_DESDE_CERO = "cnn_desde_cero"
TAM_DESDE_CERO = 160  # el del cuaderno 02 cuando el modo no fija tamaño (completo)
TASA_CABEZA = 1e-3
TASA_AJUSTE_FINO = 1e-5
ETIQUETA = "experimentos"
PREFIJO_CURVA = "curva_"
REDES_POR_MODO = {
    "rapido": ("mobilenet_v2", "squeezenet"),
    "clase": ("vgg16", "xception", "mobilenet_v2", "squeezenet"),
    "completo": arquitecturas.NOMBRES,
}
# Imágenes de entrenamiento por clase de cada punto de la curva (None = todas).
PUNTOS_CURVA = {"rapido": (5, 12), "clase": (10, 25, 50, 100), "completo": (10, 25, 50, 100, 250, None)}
SEMILLAS_CURVA = {"rapido": 1, "clase": 2, "completo": 3}
REDES_CURVA = ("mobilenet_v2",)
# Campos que identifican una celda terminada para reanudar sin repetir trabajo.
CLAVE_CELDA = (
    "arquitectura",
    "estrategia",
    "modo",
    "imagenes_por_clase",
    "semilla",
    "tam_imagen",
    "datos",
    "imagenes_entrenamiento",
    "epocas_maximas",
)


# --- Los tres modelos ----------------------------------------------------------------------------


def escalar(x):
    """Preprocesado de la CNN desde cero: píxeles de 0-255 a 0-1."""
    return x / 255.0


def construir_desde_cero(n_clases: int, tam: int, dropout: float = 0.5) -> keras.Model:
    """CNN compacta del cuaderno 02: bloques conv + pooling, GAP, dropout y softmax."""
    entrada = keras.Input((tam, tam, 3))
    x = entrada
    for filtros in (32, 64, 128, 128):
        x = keras.layers.Conv2D(filtros, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    salida = keras.layers.Dense(n_clases, activation="softmax")(x)
    return keras.Model(entrada, salida, name="cnn_desde_cero")


def construir_extraccion(base: keras.Model, n_clases: int, tam: int, dropout: float = 0.2) -> keras.Model:
    """Base congelada llamada con training=False + GAP + Dropout + Dense, como en el cuaderno 04."""
    base.trainable = False
    entrada = keras.Input((tam, tam, 3))
    # training=False: BatchNorm en inferencia mientras la base está congelada. En Keras 3.15, al descongelar,
    # `fit` lo anula; por eso `descongelar_desde` deja además las BatchNorm con trainable=False.
    x = base(entrada, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    salida = keras.layers.Dense(n_clases, activation="softmax")(x)
    return keras.Model(entrada, salida, name=f"extraccion_{base.name}")


# --- Planificación y reanudación -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Celda:
    """Una combinación de la rejilla: red, estrategia, imágenes por clase y semilla."""

    arquitectura: str
    estrategia: str
    imagenes_por_clase: int | None
    semilla: int
    etiqueta: str
    en_curva: bool = False


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

    @property
    def filas(self) -> list[dict]:
        """La tabla estrategias × redes."""
        return tabla(self.registros)

    @property
    def puntos_curva(self) -> list[dict]:
        """Los puntos agregados de la curva de datos."""
        return curva(self.registros_curva)


def _etiqueta_curva(n: int | None) -> str:
    return f"{PREFIJO_CURVA}{n if n is not None else 'todas'}"


def _es_de_rejilla(registro: dict) -> bool:
    etiqueta = registro.get("etiqueta") or ""
    return etiqueta == ETIQUETA or etiqueta.startswith(PREFIJO_CURVA)


def planificar(
    modo: str,
    arquitecturas_elegidas=None,
    estrategias=None,
    curva: bool = False,
    semilla: int = cfg.SEMILLA_DEFECTO,
    imagenes_por_clase: int | None = None,
    redes_curva=REDES_CURVA,
) -> list[Celda]:
    """Lista ordenada de celdas: primero la tabla y después, si se pide, la curva de datos."""
    modo = cfg.resolver_modo(modo)
    redes = [arquitecturas.obtener(n).nombre for n in (arquitecturas_elegidas or REDES_POR_MODO[modo])]
    estrategias = list(estrategias or ESTRATEGIAS)
    for e in estrategias:
        if e not in ESTRATEGIAS:
            raise ValueError(f"Estrategia desconocida: {e!r}. Las válidas son: {', '.join(ESTRATEGIAS)}.")
    n_modo = imagenes_por_clase or cfg.MODOS[modo].imagenes_por_clase
    celdas = _celdas_de(redes, estrategias, n_modo, semilla, ETIQUETA)
    if curva:
        for n in PUNTOS_CURVA[modo]:
            for s in range(semilla, semilla + SEMILLAS_CURVA[modo]):
                for c in _celdas_de(redes_curva, estrategias, n, s, _etiqueta_curva(n)):
                    i = next((i for i, otra in enumerate(celdas) if _misma_celda(c, otra)), None)
                    if i is None:
                        celdas.append(dataclasses.replace(c, en_curva=True))
                    else:  # la celda de la tabla sirve también como punto de la curva
                        celdas[i] = dataclasses.replace(celdas[i], en_curva=True)
    return celdas


def _celdas_de(redes, estrategias, n, semilla, etiqueta) -> list[Celda]:
    celdas = [Celda(ARQ_DESDE_CERO, "desde_cero", n, semilla, etiqueta)] if "desde_cero" in estrategias else []
    for red in redes:
        celdas += [Celda(red, e, n, semilla, etiqueta) for e in ("extraccion", "fine_tuning") if e in estrategias]
    return celdas


def _misma_celda(a: Celda, b: Celda) -> bool:
    return (a.arquitectura, a.estrategia, a.imagenes_por_clase, a.semilla) == (
        b.arquitectura,
        b.estrategia,
        b.imagenes_por_clase,
        b.semilla,
    )


def _clave(valores: dict) -> tuple:
    return tuple(valores.get(k) for k in CLAVE_CELDA)


def buscar_terminada(previos: list[dict], valores: dict) -> dict | None:
    """El registro más reciente de una celda ya terminada con la misma clave, o None."""
    clave = _clave(valores)
    iguales = [r for r in previos if _es_de_rejilla(r) and _clave(r) == clave]
    return max(iguales, key=lambda r: r.get("fecha", ""), default=None)


# --- Ejecución -----------------------------------------------------------------------------------


def _hms(segundos: float) -> str:
    m, s = divmod(round(segundos), 60)
    return f"{m} min {s:02d} s" if m else f"{segundos:.1f} s"


class _Progreso:
    """Una línea por celda: i/N, red, estrategia, tiempo y exactitud en prueba."""

    def __init__(self, total: int):
        self.total, self.i, self.inicio = total, 0, time.perf_counter()

    def empezar(self, celda: Celda) -> None:
        self.i += 1
        n = celda.imagenes_por_clase if celda.imagenes_por_clase is not None else "todas"
        print(
            f"[{self.i}/{self.total}] {celda.arquitectura:<14} {NOMBRES_ESTRATEGIA[celda.estrategia]:<12} "
            f"n={n!s:<5} semilla={celda.semilla} …",
            end="",
            flush=True,
        )

    def terminar(self, registro: dict | None, estado: str, segundos: float | None = None) -> None:
        total = _hms(time.perf_counter() - self.inicio)
        if registro is None:
            print(f" {estado} · total {total}", flush=True)
            return
        duracion = f" en {_hms(segundos)}" if segundos is not None else ""
        print(
            f" {estado}{duracion} · exactitud en prueba {registro['test_accuracy']:.3f} "
            f"(pesos: {registro['pesos']}) · total {total}",
            flush=True,
        )


def _anotar(registro: dict, celda: Celda, epocas_maximas: int, config: cfg.Config) -> dict:
    registro = dict(registro, etiqueta=celda.etiqueta, epocas_maximas=epocas_maximas)
    registros.anadir(registro, config.resultados_dir)
    return registro


def _config_de(modo, celda: Celda, epocas, tam_imagen) -> cfg.Config:
    return cfg.obtener_config(
        modo, semilla=celda.semilla, imagenes_por_clase=celda.imagenes_por_clase, epocas=epocas, tam_imagen=tam_imagen
    )


def _valores_clave(celda: Celda, config: cfg.Config, conjunto, tam: int) -> dict:
    return {
        "arquitectura": celda.arquitectura,
        "estrategia": celda.estrategia,
        "modo": config.modo,
        "imagenes_por_clase": config.imagenes_por_clase,
        "semilla": config.semilla,
        "tam_imagen": tam,
        "datos": conjunto.origen,
        "imagenes_entrenamiento": len(conjunto.particiones["entrenamiento"]),
        "epocas_maximas": config.epocas,
    }


def entrenar_desde_cero(conjunto, config: cfg.Config, tam: int) -> entrenamiento.Resultado:
    """Estrategia 1: la CNN compacta del cuaderno 02, con aumento de datos y sin pesos previos."""
    cfg.fijar_semillas(config.semilla)
    modelo = construir_desde_cero(len(conjunto.clases), tam)
    modelo.compile(
        optimizer=keras.optimizers.Adam(TASA_CABEZA), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, arquitectura=ARQ_DESDE_CERO, estrategia="desde_cero", tam=tam,
        preprocesado=escalar, aumento=datos.bloque_aumento(semilla=config.semilla), registrar=False,
    )  # fmt: skip


def extraccion_y_ajuste_fino(nombre: str, conjunto, config: cfg.Config, tam: int, ajuste_fino=True, entre_fases=None):
    """Estrategias 2 y 3: extracción (fase 1) y, partiendo de ella, ajuste fino (fase 2) de una red."""
    arq = arquitecturas.obtener(nombre)
    base, origen = arquitecturas.cargar_base(nombre, "imagenet", tam, config)
    cfg.fijar_semillas(config.semilla)
    modelo = construir_extraccion(base, len(conjunto.clases), tam)  # base congelada, llamada con training=False
    modelo.compile(
        optimizer=keras.optimizers.Adam(TASA_CABEZA), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    aumento = datos.bloque_aumento(semilla=config.semilla)
    ds = entrenamiento.preparar_datasets(conjunto, config, tam, arq.preprocesado, aumento)  # preprocess_input de la red
    comun = {"arquitectura": nombre, "tam": tam, "pesos": origen, "datasets": ds, "registrar": False}
    fase1 = entrenamiento.entrenar_y_evaluar(modelo, conjunto, config, estrategia="extraccion", **comun)
    if not ajuste_fino:
        return fase1, None
    if entre_fases:
        entre_fases(fase1)
    arquitecturas.descongelar_desde(base, arq.punto_descongelar)  # desde el último bloque; BatchNorm congelada
    modelo.compile(  # recompilar tras cambiar `trainable`, con una tasa 100 veces menor
        optimizer=keras.optimizers.Adam(TASA_AJUSTE_FINO), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    fase2 = entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, estrategia="fine_tuning", fase_previa=fase1.historial, **comun
    )
    return fase1, fase2


def entrenar_receta(arquitectura: str, estrategia: str, conjunto, config: cfg.Config):
    """Entrena una estrategia con las funciones de la comparativa; devuelve (red, tamaño, Resultado)."""
    if estrategia == "desde_cero":
        tam = config.tam_para(TAM_DESDE_CERO)
        return ARQ_DESDE_CERO, tam, entrenar_desde_cero(conjunto, config, tam)
    nombre = arquitecturas.obtener(arquitectura).nombre
    tam = config.tam_para(arquitecturas.obtener(nombre).tam_defecto)
    fase1, fase2 = extraccion_y_ajuste_fino(nombre, conjunto, config, tam, ajuste_fino=estrategia == "fine_tuning")
    return nombre, tam, fase2 or fase1


@contextlib.contextmanager
def _silencio(activo: bool):
    """Manda las líneas por época de `fit` a absl (ocultas) para dejar solo la línea de progreso."""
    if not activo:
        yield
        return
    keras.utils.disable_interactive_logging()
    try:
        yield
    finally:
        keras.utils.enable_interactive_logging()


def _celdas_red(grupo, config, conjunto, tam, pendientes, silencioso, progreso, hechos) -> None:
    """Ejecuta las celdas pendientes de una red con la línea de progreso de cada una."""
    por_estrategia = {c.estrategia: c for c in grupo}
    reloj = {"inicio": time.perf_counter()}
    if "extraccion" in pendientes:
        progreso.empezar(por_estrategia["extraccion"])

    def entre_fases(fase1):
        if "extraccion" in pendientes:
            hechos.append(_anotar(fase1.registro, por_estrategia["extraccion"], config.epocas, config))
            progreso.terminar(hechos[-1], "entrenada", time.perf_counter() - reloj["inicio"])
        if "fine_tuning" in pendientes:
            progreso.empezar(por_estrategia["fine_tuning"])
            reloj["inicio"] = time.perf_counter()

    with _silencio(silencioso):
        fase1, fase2 = extraccion_y_ajuste_fino(
            grupo[0].arquitectura, conjunto, config, tam, "fine_tuning" in pendientes, entre_fases
        )
    if fase2 is None:
        entre_fases(fase1)
        return
    hechos.append(_anotar(fase2.registro, por_estrategia["fine_tuning"], config.epocas, config))
    progreso.terminar(hechos[-1], "entrenada", time.perf_counter() - reloj["inicio"])


def _mensaje_omitida(exc: Exception) -> str:
    primera = str(exc).splitlines()[0]
    return f"sin pesos preentrenados en este modo ({primera[:140]}…)"


def ejecutar_rejilla(
    modo: str | None = None,
    *,
    arquitecturas_elegidas=None,
    estrategias=None,
    curva: bool = False,
    semilla: int = cfg.SEMILLA_DEFECTO,
    epocas: int | None = None,
    tam_imagen: int | None = None,
    imagenes_por_clase: int | None = None,
    carpeta: str | Path | None = None,
    redes_curva=REDES_CURVA,
    silencioso: bool = True,
    escribir: bool = True,
) -> Informe:
    """Ejecuta (o reanuda) la rejilla y la curva, y escribe `informe_<modo>.md` con sus gráficas.

    `carpeta` apunta la rejilla a una carpeta de imágenes propia (pruebas y proyectos); por defecto, flores.
    """
    modo = cfg.resolver_modo(modo)
    celdas = planificar(modo, arquitecturas_elegidas, estrategias, curva, semilla, imagenes_por_clase, redes_curva)
    config0 = _config_de(modo, celdas[0], epocas, tam_imagen) if celdas else cfg.obtener_config(modo)
    previos = registros.leer(config0.resultados_dir, modo=modo)
    progreso = _Progreso(len(celdas))
    informe = Informe(modo, [])
    hechos: list[dict] = []
    print(f"Rejilla en modo {modo}: {len(celdas)} celdas. Resultados en {config0.resultados_dir}")
    if modo == "rapido":
        print("Modo rápido: muy pocas imágenes y épocas; los resultados son solo orientativos.")
    conjuntos: dict = {}
    grupos = _agrupar(celdas)
    for grupo in grupos:
        celda = grupo[0]
        config = _config_de(modo, celda, epocas, tam_imagen)
        clave_datos = config.imagenes_por_clase
        if clave_datos not in conjuntos:
            callar = contextlib.redirect_stdout(io.StringIO()) if conjuntos else contextlib.nullcontext()
            with callar:  # el aviso de datos de demostración se muestra una sola vez
                conjuntos[clave_datos] = datos.cargar_datos(config, carpeta)
        conjunto = conjuntos[clave_datos]
        es_red = celda.arquitectura != ARQ_DESDE_CERO
        tam = config.tam_para(arquitecturas.obtener(celda.arquitectura).tam_defecto if es_red else TAM_DESDE_CERO)
        if celda.arquitectura in informe.omitidas:
            for c in grupo:
                progreso.empezar(c)
                progreso.terminar(None, "omitida (sin pesos)")
            continue
        pendientes = set()
        for c in grupo:
            previo = buscar_terminada(previos + hechos, _valores_clave(c, config, conjunto, tam))
            if previo is None:
                pendientes.add(c.estrategia)
            else:
                progreso.empezar(c)
                progreso.terminar(previo, f"reutilizada (registro del {previo.get('fecha', '?')})")
                informe.reutilizadas += 1
                hechos.append(previo)
        if not pendientes:
            continue
        keras.backend.clear_session()
        gc.collect()
        antes = len(hechos)
        if not es_red:
            progreso.empezar(celda)
            inicio = time.perf_counter()
            with _silencio(silencioso):
                resultado = entrenar_desde_cero(conjunto, config, tam)
            hechos.append(_anotar(resultado.registro, celda, config.epocas, config))
            progreso.terminar(hechos[-1], "entrenada", time.perf_counter() - inicio)
        else:
            try:
                _celdas_red(grupo, config, conjunto, tam, pendientes, silencioso, progreso, hechos)
            except arquitecturas.PesosNoDisponibles as exc:
                informe.omitidas[celda.arquitectura] = _mensaje_omitida(exc)
                for c in grupo:
                    if c.estrategia in pendientes:
                        progreso.empezar(c)
                        progreso.terminar(None, "omitida (sin pesos)")
                print(
                    f"Se omite {arquitecturas.obtener(celda.arquitectura).titulo}: no hay pesos preentrenados "
                    f"disponibles en modo {modo}. Para incluirla, descarga sus pesos una vez con "
                    "`python -m course_utils descargar --pesos` y define CURSO_PESOS_DIR."
                )
        informe.entrenadas += len(hechos) - antes
    informe.registros, informe.registros_curva = _repartir(hechos, celdas)
    informe.segundos = time.perf_counter() - progreso.inicio
    print(
        f"Rejilla terminada en {_hms(informe.segundos)}: {informe.entrenadas} celdas entrenadas, "
        f"{informe.reutilizadas} reutilizadas, {len(informe.omitidas)} red(es) omitida(s)."
    )
    if escribir:
        informe.ruta = escribir_informe(informe, config0.resultados_dir)
        print(f"Informe: {informe.ruta}")
    return informe


def _agrupar(celdas: list[Celda]) -> list[list[Celda]]:
    """Junta extracción y ajuste fino de la misma red, n y semilla: el ajuste fino parte de la extracción."""
    grupos: dict[tuple, list[Celda]] = {}
    for c in celdas:
        clave = (c.arquitectura, c.imagenes_por_clase, c.semilla, c.etiqueta)
        grupos.setdefault(clave, []).append(c)
    return list(grupos.values())


def _repartir(hechos: list[dict], celdas: list[Celda]) -> tuple[list[dict], list[dict]]:
    """Registros de la tabla (celdas de la rejilla) y de la curva (las de la curva y las compartidas)."""
    tabla_celdas = {_clave_corta(c) for c in celdas if c.etiqueta == ETIQUETA}
    curva_celdas = {_clave_corta(c) for c in celdas if c.en_curva}
    de_tabla = [r for r in hechos if _clave_corta(r) in tabla_celdas]
    de_curva = [r for r in hechos if _clave_corta(r) in curva_celdas]
    return de_tabla, de_curva


def _clave_corta(x) -> tuple:
    campos = ("arquitectura", "estrategia", "imagenes_por_clase", "semilla")
    return tuple(x[k] if isinstance(x, dict) else getattr(x, k) for k in campos)


# --- Tabla, curva, gráficas e informe ------------------------------------------------------------

_ORDEN_REDES = {ARQ_DESDE_CERO: -1, **{n: i for i, n in enumerate(arquitecturas.NOMBRES)}}


def titulo_red(nombre: str) -> str:
    """Nombre legible de una red, o «CNN desde cero»."""
    if nombre == ARQ_DESDE_CERO:
        return "CNN desde cero"
    return arquitecturas.REGISTRO[nombre].titulo if nombre in arquitecturas.REGISTRO else nombre


def origen_pesos(registro: dict) -> str:
    """Texto del origen de los pesos; los aleatorios en una red preentrenable van marcados."""
    if registro.get("estrategia") == "desde_cero":
        return "aleatorios (desde cero)"
    return {"local": "ImageNet (archivo local)", "imagenet": "ImageNet (descarga)"}.get(
        registro.get("pesos"), "⚠ ALEATORIOS: no es transferencia"
    )


def tabla(registros_: list[dict]) -> list[dict]:
    """Una fila por (estrategia, red) con el registro más reciente, ordenada."""
    ultimos = registros.ultimos_por_clave(registros_, ("arquitectura", "estrategia"))
    orden_e = {e: i for i, e in enumerate(ESTRATEGIAS)}
    ultimos.sort(key=lambda r: (orden_e.get(r["estrategia"], 9), _ORDEN_REDES.get(r["arquitectura"], 99)))
    filas = []
    for r in ultimos:
        filas.append(
            {
                "estrategia": r["estrategia"],
                "arquitectura": r["arquitectura"],
                "red": titulo_red(r["arquitectura"]),
                "pesos": r["pesos"],
                "origen_pesos": origen_pesos(r),
                "aleatorio": r["estrategia"] != "desde_cero" and r["pesos"] == "aleatorios",
                "test_accuracy": r["test_accuracy"],
                "val_accuracy": r["val_accuracy"],
                "imagenes_prueba": r["imagenes_prueba"],
                "clases": r["clases"],
                "segundos_total": r["segundos_total"],
                "segundos_por_epoca": r["segundos_por_epoca"],
                "epocas": r["epocas"],
                "parametros_entrenables": r["parametros_entrenables"],
                "parametros_totales": r["parametros_totales"],
                "mb_modelo": r["mb_modelo"],
                "ms_por_imagen": r["ms_por_imagen"],
                "memoria_pico_mb": r.get("memoria_pico_mb"),
                "datos": r["datos"],
                "tam_imagen": r["tam_imagen"],
                "imagenes_por_clase": r["imagenes_por_clase"],
                "dispositivo": r.get("dispositivo"),
            }
        )
    return filas


def _miles(n) -> str:
    return f"{n:,}".replace(",", " ") if isinstance(n, int) else "—"


def tabla_markdown(filas: list[dict]) -> str:
    """La tabla estrategias × redes en Markdown, con el origen de los pesos en cada fila."""
    cabecera = (
        "| Estrategia | Red | Pesos | Exactitud (prueba) | Tiempo (s) | s/época | Épocas | Parám. entrenables "
        "| Parám. totales | MB | ms/imagen | Memoria pico (MB) | Datos |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    lineas = [cabecera]
    for f in filas:
        memoria = f"{f['memoria_pico_mb']:.0f}" if f["memoria_pico_mb"] else "—"
        red = f"**{f['red']}** ⚠" if f["aleatorio"] else f["red"]
        lineas.append(
            f"| {NOMBRES_ESTRATEGIA.get(f['estrategia'], f['estrategia'])} | {red} | {f['origen_pesos']} "
            f"| {f['test_accuracy']:.3f} | {f['segundos_total']:.1f} | {f['segundos_por_epoca']:.2f} | {f['epocas']} "
            f"| {_miles(f['parametros_entrenables'])} | {_miles(f['parametros_totales'])} | {f['mb_modelo']:.1f} "
            f"| {f['ms_por_imagen']:.2f} | {memoria} | {f['datos']} |"
        )
    return "\n".join(lineas)


def tabla_pivote_markdown(filas: list[dict]) -> str:
    """Estrategias en columnas y redes en filas: exactitud en prueba y segundos; la mejor de cada red en negrita."""
    lineas = [
        "| Red | Pesos | Desde cero | Extracción | Ajuste fino |",
        "|---|---|---:|---:|---:|",
    ]
    for red in dict.fromkeys(f["arquitectura"] for f in filas):
        suyas = {f["estrategia"]: f for f in filas if f["arquitectura"] == red}
        maximo = max(f["test_accuracy"] for f in suyas.values())
        celdas = []
        for estrategia in ESTRATEGIAS:
            f = suyas.get(estrategia)
            if f is None:
                celdas.append("—")
                continue
            valor = f"{f['test_accuracy']:.3f}"
            valor = f"**{valor}**" if len(suyas) > 1 and f["test_accuracy"] == maximo else valor
            celdas.append(f"{valor} ({f['segundos_total']:.0f} s)")
        muestra = next(iter(suyas.values()))
        nombre = f"{muestra['red']} ⚠" if muestra["aleatorio"] else muestra["red"]
        lineas.append(f"| {nombre} | {muestra['origen_pesos']} | " + " | ".join(celdas) + " |")
    return "\n".join(lineas)


def margen_error(exactitud: float, n: int) -> float:
    """Semiamplitud aproximada del intervalo del 95 % de una exactitud medida con n imágenes."""
    if n <= 0:
        return float("nan")
    p = min(max(exactitud, 1 / n), 1 - 1 / n)  # evita un margen cero con 0 % o 100 %
    return 1.96 * math.sqrt(p * (1 - p) / n)


def curva(registros_: list[dict]) -> list[dict]:
    """Agrega la curva de datos: media, mínimo y máximo entre semillas por red, estrategia y n."""
    ultimos = registros.ultimos_por_clave(registros_, ("arquitectura", "estrategia", "imagenes_por_clase", "semilla"))
    grupos: dict[tuple, list[dict]] = {}
    for r in ultimos:
        grupos.setdefault((r["arquitectura"], r["estrategia"], r["imagenes_por_clase"]), []).append(r)
    puntos = []
    for (arq, estrategia, n), rs in grupos.items():
        exactitudes = [r["test_accuracy"] for r in rs]
        puntos.append(
            {
                "arquitectura": arq,
                "estrategia": estrategia,
                "imagenes_por_clase": n,
                "imagenes_reales_por_clase": rs[0]["imagenes_entrenamiento"] / max(rs[0]["clases"], 1),
                "media": statistics.fmean(exactitudes),
                "minimo": min(exactitudes),
                "maximo": max(exactitudes),
                "semillas": len(rs),
                "clases": rs[0]["clases"],
                "pesos": rs[0]["pesos"],
                "segundos_medios": statistics.fmean(r["segundos_total"] for r in rs),
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
            f"| {p['imagenes_reales_por_clase']:.0f} | {p['media']:.3f} | {p['minimo']:.3f}–{p['maximo']:.3f} "
            f"| {p['semillas']} | {pesos} |"
        )
    return "\n".join(lineas)


_COLORES = {"desde_cero": "tab:gray", "extraccion": "tab:blue", "fine_tuning": "tab:orange"}
_MARCAS = {"desde_cero": "s", "extraccion": "o", "fine_tuning": "^"}


def grafico_barras(filas: list[dict], ax=None, titulo: str = "Exactitud en prueba por red y estrategia"):
    """Barras agrupadas de exactitud; la CNN desde cero es una línea base horizontal."""
    import matplotlib.pyplot as plt
    import numpy as np

    redes = [r for r in dict.fromkeys(f["arquitectura"] for f in filas) if r != ARQ_DESDE_CERO]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(5, 1.6 * len(redes) + 2), 3.8))
    x = np.arange(len(redes))
    for i, estrategia in enumerate(("extraccion", "fine_tuning")):
        valores = [
            next(
                (f["test_accuracy"] for f in filas if f["arquitectura"] == r and f["estrategia"] == estrategia), np.nan
            )
            for r in redes
        ]
        barras = ax.bar(
            x + (i - 0.5) * 0.38, valores, 0.38, label=NOMBRES_ESTRATEGIA[estrategia], color=_COLORES[estrategia]
        )
        ax.bar_label(barras, fmt="%.2f", fontsize=8)
    for f in filas:
        if f["estrategia"] == "desde_cero":
            ax.axhline(
                f["test_accuracy"],
                color=_COLORES["desde_cero"],
                linestyle="--",
                label=f"desde cero ({f['test_accuracy']:.2f})",
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
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    for estrategia in ESTRATEGIAS:
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
    import matplotlib.pyplot as plt

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


# --- Conclusiones a partir de los números --------------------------------------------------------


def mejor_por_red(filas: list[dict]) -> dict[str, dict]:
    """Para cada red, la fila de la estrategia con mayor exactitud en prueba."""
    mejores: dict[str, dict] = {}
    for f in filas:
        if f["arquitectura"] not in mejores or f["test_accuracy"] > mejores[f["arquitectura"]]["test_accuracy"]:
            mejores[f["arquitectura"]] = f
    return mejores


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
        f"Con {n_prueba} imágenes de prueba, cada imagen acertada vale {1 / max(n_prueba, 1):.3f} de exactitud y, "
        f"para una exactitud como la media de la tabla ({media:.2f}), el margen de error del 95 % es de unos "
        f"±{margen_error(media, n_prueba):.3f}: diferencias menores no bastan para ordenar estrategias. "
        f"El azar (una clase de {filas[0]['clases']} al tuntún) daría {1 / max(filas[0]['clases'], 1):.2f}.\n"
    )
    if base:
        lineas.append(
            f"- **Línea base, CNN desde cero:** exactitud {base['test_accuracy']:.3f} en {base['segundos_total']:.0f} s "
            f"({base['epocas']} épocas, {_miles(base['parametros_entrenables'])} parámetros entrenables)."
        )
    lineas += [_conclusion_red(red, fs, base) for red, fs in por_red.items()]
    lineas += _contradicciones(por_red, base)
    if puntos:
        lineas += _conclusion_curva(puntos)
    return "\n".join(lineas)


def _conclusion_red(red: str, fs: dict[str, dict], base: dict | None) -> str:
    candidatos = list(fs.values()) + ([base] if base else [])
    maximo = max(f["test_accuracy"] for f in candidatos)
    mejores = [NOMBRES_ESTRATEGIA[f["estrategia"]] for f in candidatos if f["test_accuracy"] == maximo]
    ganador = f"**{mejores[0]}**" if len(mejores) == 1 else "empate entre " + " y ".join(f"**{m}**" for m in mejores)
    muestra = next(iter(fs.values()))
    aviso = " ⚠" if muestra["aleatorio"] else ""
    partes = [
        f"- **{titulo_red(red)}**{aviso} (pesos: {muestra['origen_pesos']}): mejor resultado, {ganador} ({maximo:.3f})."
    ]
    ext, ft = fs.get("extraccion"), fs.get("fine_tuning")
    if ext and base:
        partes.append(
            f"La extracción saca {ext['test_accuracy'] - base['test_accuracy']:+.3f} a la CNN desde cero entrenando "
            f"solo {_miles(ext['parametros_entrenables'])} parámetros."
        )
    if ext and ft:
        dif = ft["test_accuracy"] - ext["test_accuracy"]
        margen = margen_error(ext["test_accuracy"], ext["imagenes_prueba"])
        if abs(dif) < margen:
            veredicto = "no se distingue de la extracción"
        else:
            veredicto = "mejora a la extracción" if dif > 0 else "empeora respecto a la extracción"
        coste = ft["segundos_total"] / max(ext["segundos_total"], 1e-9)
        partes.append(
            f"El ajuste fino {veredicto} ({dif:+.3f}, margen ±{margen:.3f}) y cuesta {ft['segundos_total']:.0f} s "
            f"frente a {ext['segundos_total']:.0f} s (×{coste:.1f}, con su fase 1 incluida)."
        )
    return " ".join(partes)


def _comparar(a: dict, b: dict) -> int:
    """+1 si `a` supera a `b` más allá del margen de error, -1 si queda por debajo, 0 si no se distinguen."""
    dif = a["test_accuracy"] - b["test_accuracy"]
    margen = margen_error(b["test_accuracy"], b["imagenes_prueba"])
    return 0 if abs(dif) < margen else (1 if dif > 0 else -1)


def _contradicciones(por_red, base) -> list[str]:
    """Contrasta cada red con lo esperado en los libros y da causas plausibles cuando no coincide."""
    avisos = []
    for red, fs in por_red.items():
        ext, ft = fs.get("extraccion"), fs.get("fine_tuning")
        titulo, causas = titulo_red(red), _causas(next(iter(fs.values())))
        if ext and base:
            veredicto = _comparar(ext, base)
            if veredicto < 0:
                avisos.append(
                    f"- ⚠ **Contradice lo esperado:** con {titulo}, la extracción ({ext['test_accuracy']:.3f}) queda "
                    f"por debajo de la CNN desde cero ({base['test_accuracy']:.3f}). Causas plausibles: {causas}."
                )
            elif veredicto == 0:
                avisos.append(
                    f"- Con {titulo}, la extracción y la CNN desde cero no se distinguen: no se puede confirmar la "
                    f"ventaja esperada de los pesos preentrenados. Causas plausibles: {causas}."
                )
        if ext and ft:
            veredicto = _comparar(ft, ext)
            if veredicto < 0:
                avisos.append(
                    f"- ⚠ **Contradice lo esperado:** con {titulo}, el ajuste fino ({ft['test_accuracy']:.3f}) empeora "
                    f"la extracción ({ext['test_accuracy']:.3f}). Al descongelar, las capas altas pueden sobreajustarse "
                    f"a tan pocas imágenes. Otras causas plausibles: {causas}."
                )
            elif veredicto == 0:
                avisos.append(
                    f"- Con {titulo}, el ajuste fino no se separa de la extracción: con tasa {TASA_AJUSTE_FINO:g} y "
                    f"{ft['epocas'] - ext['epocas']} épocas más, los pesos descongelados apenas cambian. Es compatible "
                    "con lo esperado (una mejora pequeña, no grande), pero no la demuestra."
                )
    if not avisos:
        avisos.append("- Todos los resultados coinciden con lo esperado más allá del margen de error.")
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
    causas.append(f"tasa de aprendizaje fija (cabeza {TASA_CABEZA:g}, ajuste fino {TASA_AJUSTE_FINO:g}) sin ajustar")
    return "; ".join(causas)


def _conclusion_curva(puntos: list[dict]) -> list[str]:
    lineas = ["", "**Curva de datos:**"]
    por_estrategia: dict[str, list[dict]] = {}
    for p in puntos:
        por_estrategia.setdefault(p["estrategia"], []).append(p)
    for estrategia, ps in por_estrategia.items():
        ps = sorted(ps, key=lambda p: p["imagenes_reales_por_clase"])
        lineas.append(
            f"- {NOMBRES_ESTRATEGIA[estrategia]}: {ps[0]['media']:.3f} con {ps[0]['imagenes_reales_por_clase']:.0f} "
            f"imágenes por clase → {ps[-1]['media']:.3f} con {ps[-1]['imagenes_reales_por_clase']:.0f} "
            f"({ps[-1]['media'] - ps[0]['media']:+.3f}; {ps[0]['semillas']} semilla(s) por punto)."
        )
    cero, ext = por_estrategia.get("desde_cero"), por_estrategia.get("extraccion")
    if cero and ext and len(cero) > 1:
        cero = sorted(cero, key=lambda p: p["imagenes_reales_por_clase"])
        ext = sorted(ext, key=lambda p: p["imagenes_reales_por_clase"])
        gap0, gap1 = ext[0]["media"] - cero[0]["media"], ext[-1]["media"] - cero[-1]["media"]
        if gap0 > gap1:
            texto = "la ventaja de los pesos preentrenados es mayor cuantos menos datos hay, como se espera"
        else:
            texto = (
                "la ventaja NO se reduce al crecer los datos, al contrario de lo esperado; con tan pocos "
                "puntos y semillas la curva es ruidosa"
            )
        lineas.append(
            f"- Ventaja de la extracción sobre desde cero: {gap0:+.3f} con los menos datos y {gap1:+.3f} con los "
            f"más: {texto}."
        )
    return lineas


# --- Informe en disco ----------------------------------------------------------------------------


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
            f"Datos: **{muestra.get('datos', '—')}** · imágenes por clase: {muestra.get('imagenes_por_clase') or 'todas'} · "
            f"imágenes de prueba: {muestra.get('imagenes_prueba', '—')} · dispositivo: {muestra.get('dispositivo', '—')}."
        ),
        (
            f"Mismas particiones, semilla y presupuesto de épocas para todas las celdas; tasa de la cabeza {TASA_CABEZA:g}, "
            f"del ajuste fino {TASA_AJUSTE_FINO:g}; el ajuste fino incluye el tiempo y las épocas de su fase 1."
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
        ("barras", grafico_barras, filas),
        ("tiempo", grafico_tiempo, filas),
        ("curva", grafico_curva, puntos),
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
    )


# --- Línea de órdenes ----------------------------------------------------------------------------


def main(args) -> int:
    """Punto de entrada de `python -m course_utils experimentos`."""
    import matplotlib

    matplotlib.use("Agg")
    try:
        informe = ejecutar_rejilla(
            args.modo,
            arquitecturas_elegidas=args.arquitecturas or None,
            estrategias=args.estrategias or None,
            curva=bool(args.curva),
            carpeta=getattr(args, "carpeta", None),
        )
    except (ValueError, datos.DatosNoDisponibles, datos.DatosInvalidos) as exc:
        print(f"ERROR: {exc}")
        return 2
    print()
    print(tabla_pivote_markdown(informe.filas))
    return 0 if informe.registros else 1
