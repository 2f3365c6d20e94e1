"""La rejilla de la comparativa en marcha: entrenar, reanudar e informar estrategias × redes y la curva de datos.

Cada celda (ver `planificacion`) entrena una receta de `estrategias` con las mismas particiones, la misma
semilla y el mismo presupuesto de épocas; `entrenamiento.entrenar_y_evaluar` anota cada resultado en
`registros.jsonl`. La rejilla se puede interrumpir: al volver a lanzarla, las celdas que ya tienen un registro
terminado (misma red, estrategia, modo, imágenes por clase, semilla, tamaño, datos y presupuesto) no se vuelven
a entrenar. La orden de la línea de órdenes es

    python -m course_utils experimentos --modo clase [--arquitecturas ...] [--estrategias ...] [--curva]
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import time
from pathlib import Path

import keras

from course_utils import arquitecturas, datos, formato, informe, registros
from course_utils import config as cfg
from course_utils import estrategias as recetas
from course_utils.estrategias import ARQ_DESDE_CERO, NOMBRES_ESTRATEGIA
from course_utils.planificacion import (
    REDES_CURVA,
    Celda,
    agrupar,
    buscar_terminada,
    cache_de,
    config_de,
    planificar,
    repartir,
    valores_clave,
)
from course_utils.resultados import Informe


def _hms(segundos: float) -> str:
    m, s = divmod(round(segundos), 60)
    return f"{m} min {s:02d} s" if m else f"{formato.decimal(segundos, 1)} s"


class _Progreso:
    """Una línea por celda: i/N, red, estrategia, tiempo y exactitud en prueba."""

    def __init__(self, total: int):
        self.total, self.i, self.inicio = total, 0, time.perf_counter()

    def empezar(self, celda: Celda) -> None:
        self.i += 1
        n = celda.imagenes_por_clase if celda.imagenes_por_clase is not None else "todas"
        print(f"[{self.i}/{self.total}] {celda.arquitectura:<14} {NOMBRES_ESTRATEGIA[celda.estrategia]:<12} "
              f"n={n!s:<5} semilla={celda.semilla} …", end="", flush=True)  # fmt: skip

    def terminar(self, registro: dict | None, estado: str, segundos: float | None = None) -> None:
        total = _hms(time.perf_counter() - self.inicio)
        if registro is None:
            print(f" {estado} · total {total}", flush=True)
            return
        duracion = f" en {_hms(segundos)}" if segundos is not None else ""
        print(f" {estado}{duracion} · exactitud en prueba {formato.decimal(registro['test_accuracy'], 3)} "
              f"(pesos: {registro['pesos']}) · total {total}", flush=True)  # fmt: skip


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


def _mensaje_omitida(exc: Exception) -> str:
    primera = str(exc).splitlines()[0]
    return f"sin pesos preentrenados en este modo ({primera[:140]}…)"


@dataclasses.dataclass
class _Ejecucion:
    """Estado de una rejilla en marcha: ajustes comunes, progreso, registros hechos y conjuntos cargados."""

    modo: str
    epocas: int | None
    tam_imagen: int | None
    carpeta: str | Path | None
    silencioso: bool
    progreso: _Progreso
    informe: Informe
    previos: list[dict]
    hechos: list[dict] = dataclasses.field(default_factory=list)
    conjuntos: dict = dataclasses.field(default_factory=dict)

    def conjunto(self, config: cfg.Config):
        """El conjunto de datos de esa configuración, cargado una sola vez por número de imágenes."""
        clave = config.imagenes_por_clase
        if clave not in self.conjuntos:
            callar = contextlib.redirect_stdout(io.StringIO()) if self.conjuntos else contextlib.nullcontext()
            with callar:  # el aviso de datos de demostración se muestra una sola vez
                self.conjuntos[clave] = datos.cargar_datos(config, self.carpeta)
        return self.conjuntos[clave]

    def anotaciones(self, celda: Celda, config: cfg.Config) -> dict:
        extra = {"epocas_maximas": config.epocas, "receta": recetas.VERSION_RECETA}
        if celda.estrategia in recetas.DESDE_CABEZA:
            extra["imagenes_cache_por_clase"] = cache_de(celda)
        return {"etiqueta": celda.etiqueta, "anotaciones": extra}

    def omitir(self, celdas) -> None:
        for c in celdas:
            self.progreso.empezar(c)
            self.progreso.terminar(None, "omitida (sin pesos)")


def _pendientes(ej: _Ejecucion, grupo, tam) -> set[str]:
    """Estrategias del grupo sin registro terminado; las terminadas se reutilizan y se informan."""
    pendientes = set()
    for c in grupo:
        config = config_de(ej.modo, c, ej.epocas, ej.tam_imagen)
        previo = buscar_terminada(ej.previos + ej.hechos, valores_clave(c, config, ej.conjunto(config), tam))
        if previo is None:
            pendientes.add(c.estrategia)
            continue
        ej.progreso.empezar(c)
        ej.progreso.terminar(previo, f"reutilizada (registro del {previo.get('fecha', '?')})")
        ej.informe.reutilizadas += 1
        ej.hechos.append(previo)
    return pendientes


def _celda_desde_cero(ej: _Ejecucion, celda: Celda, config, conjunto, tam) -> None:
    ej.progreso.empezar(celda)
    inicio = time.perf_counter()
    with _silencio(ej.silencioso):
        resultado = recetas.entrenar_desde_cero(conjunto, config, tam, registrar=True, **ej.anotaciones(celda, config))
    ej.hechos.append(resultado.registro)
    ej.progreso.terminar(resultado.registro, "entrenada", time.perf_counter() - inicio)


def _celdas_red(ej: _Ejecucion, grupo, tam, pendientes) -> None:
    """Extracción en caché de una red y, partiendo de su cabeza, el control y el ajuste fino."""
    por_estrategia = {c.estrategia: c for c in grupo}
    muestra = grupo[0]
    columna = recetas.EXTRACCION_NATIVA if recetas.EXTRACCION_NATIVA in por_estrategia else "extraccion"
    config = config_de(
        ej.modo, dataclasses.replace(muestra, imagenes_por_clase=muestra.imagenes_cache), ej.epocas, ej.tam_imagen
    )
    inicio = time.perf_counter()
    if columna in pendientes:
        ej.progreso.empezar(por_estrategia[columna])
    with _silencio(ej.silencioso):
        ext = recetas.extraccion_en_cache(
            muestra.arquitectura, ej.conjunto(config), config, tam, registrar=columna in pendientes,
            estrategia=columna, **ej.anotaciones(por_estrategia.get(columna, muestra), config),
        )  # fmt: skip
    if columna in pendientes:
        ej.hechos.append(ext.resultado.registro)
        ej.progreso.terminar(ext.resultado.registro, "entrenada", time.perf_counter() - inicio)
    for estrategia in recetas.DESDE_CABEZA:
        if estrategia not in pendientes:
            continue
        celda = por_estrategia[estrategia]
        config = config_de(ej.modo, celda, ej.epocas, ej.tam_imagen)
        ej.progreso.empezar(celda)
        inicio = time.perf_counter()
        with _silencio(ej.silencioso):
            resultado = recetas.desde_cabeza(
                ext, estrategia, ej.conjunto(config), config, registrar=True, **ej.anotaciones(celda, config)
            )
        ej.hechos.append(resultado.registro)
        ej.progreso.terminar(resultado.registro, "entrenada", time.perf_counter() - inicio)


def _ejecutar_grupo(ej: _Ejecucion, grupo: list[Celda]) -> None:
    """Entrena (o reutiliza) las celdas de una red con el mismo n y semilla."""
    celda = grupo[0]
    if celda.arquitectura in ej.informe.omitidas:
        ej.omitir(grupo)
        return
    config = config_de(ej.modo, celda, ej.epocas, ej.tam_imagen)
    tam = recetas.tam_de(celda.arquitectura, config)
    pendientes = _pendientes(ej, grupo, tam)
    if not pendientes:
        return
    keras.backend.clear_session()
    gc.collect()
    antes = len(ej.hechos)
    if celda.arquitectura == ARQ_DESDE_CERO:
        _celda_desde_cero(ej, celda, config, ej.conjunto(config), tam)
    else:
        try:
            _celdas_red(ej, grupo, tam, pendientes)
        except arquitecturas.PesosNoDisponibles as exc:
            ej.informe.omitidas[celda.arquitectura] = _mensaje_omitida(exc)
            ej.omitir([c for c in grupo if c.estrategia in pendientes])
            print(
                f"Se omite {arquitecturas.obtener(celda.arquitectura).titulo}: no hay pesos preentrenados "
                f"disponibles en modo {ej.modo}. Para incluirla, descarga sus pesos una vez con "
                "`python -m course_utils descargar --pesos` y define CURSO_PESOS_DIR."
            )
    ej.informe.entrenadas += len(ej.hechos) - antes


def ejecutar_rejilla(
    modo: str | None = None,
    *,
    arquitecturas_elegidas=None,
    estrategias=None,
    curva: bool = False,
    semilla: int = cfg.SEMILLA_DEFECTO,
    epocas: int | None = None,
    tam_imagen: int | None = None,
    imagenes_por_clase: int | str | None = cfg.DEL_MODO,
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
    config0 = config_de(modo, celdas[0], epocas, tam_imagen) if celdas else cfg.obtener_config(modo)
    ej = _Ejecucion(
        modo, epocas, tam_imagen, carpeta, silencioso, _Progreso(len(celdas)), Informe(modo, []),
        registros.leer(config0.resultados_dir, modo=modo),
    )  # fmt: skip
    print(f"Rejilla en modo {modo}: {len(celdas)} celdas. Resultados en {config0.resultados_dir}")
    if modo == "rapido":
        print("Modo rápido: muy pocas imágenes y épocas; los resultados son solo orientativos.")
    for grupo in agrupar(celdas):
        _ejecutar_grupo(ej, grupo)
    resultado = ej.informe
    resultado.registros, resultado.registros_curva = repartir(ej.hechos, celdas)
    resultado.segundos = time.perf_counter() - ej.progreso.inicio
    print(
        f"Rejilla terminada en {_hms(resultado.segundos)}: {resultado.entrenadas} celdas entrenadas, "
        f"{resultado.reutilizadas} reutilizadas, {len(resultado.omitidas)} red(es) omitida(s)."
    )
    if escribir:
        resultado.ruta = informe.escribir_informe(resultado, config0.resultados_dir)
        print(f"Informe: {resultado.ruta}")
    return resultado
