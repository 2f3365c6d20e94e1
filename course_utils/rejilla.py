"""La rejilla de la comparativa: planificar, reanudar y ejecutar estrategias × redes y la curva de datos.

Cada celda entrena una receta de `estrategias` con las mismas particiones, la misma semilla y
el mismo presupuesto de épocas; `entrenamiento.entrenar_y_evaluar` anota cada resultado en
`registros.jsonl`. La rejilla se puede interrumpir: al volver a lanzarla, las celdas que ya
tienen un registro terminado (misma red, estrategia, modo, imágenes por clase, semilla,
tamaño, datos y presupuesto) no se vuelven a entrenar. La orden de la línea de órdenes es

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
from course_utils.estrategias import ARQ_DESDE_CERO, ESTRATEGIAS, NOMBRES_ESTRATEGIA
from course_utils.resultados import Informe

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
# Además, un punto con todas las imágenes (unas 514 por clase en flores) y una sola semilla para lo caro de
# extremo a extremo: en clase, la CNN desde cero (más de 30 min en 2 núcleos), el ajuste fino y su control
# (unos 3 min cada uno: con todos los datos, el control dice si la ganancia del ajuste fino son solo épocas).
# La extracción con todas ya es la celda de la tabla. En completo, `None` ya está en los puntos.
TODAS_EN_CURVA = {"rapido": (), "clase": ("desde_cero", "extraccion_continuada", "fine_tuning"), "completo": ()}
REDES_CURVA = ("mobilenet_v2",)
# El control (extracción continuada) se mide en la tabla; en la curva solo cuesta tiempo.
ESTRATEGIAS_CURVA = ("desde_cero", "extraccion", "fine_tuning")
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
    "receta",
    "imagenes_cache_por_clase",  # de qué caché parte la cabeza del ajuste fino y su control (None en las demás)
)


@dataclasses.dataclass(frozen=True)
class Celda:
    """Una combinación de la rejilla: red, estrategia, imágenes por clase y semilla.

    `imagenes_cache` son las imágenes por clase de la caché de la que parte la red (la extracción las usa
    para entrenar; el ajuste fino y su control parten de esa cabeza). None = todas.
    """

    arquitectura: str
    estrategia: str
    imagenes_por_clase: int | None
    semilla: int
    etiqueta: str
    en_curva: bool = False
    imagenes_cache: int | None = None


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
    imagenes_por_clase: int | str | None = cfg.DEL_MODO,
    redes_curva=REDES_CURVA,
) -> list[Celda]:
    """Lista ordenada de celdas: primero la tabla y después, si se pide, la curva de datos."""
    modo = cfg.resolver_modo(modo)
    redes = [arquitecturas.obtener(n).nombre for n in (arquitecturas_elegidas or REDES_POR_MODO[modo])]
    estrategias = recetas.validar_estrategias(estrategias or ESTRATEGIAS)
    config = cfg.obtener_config(modo, imagenes_por_clase=imagenes_por_clase)
    celdas = _celdas_de(
        redes, estrategias, config.imagenes_por_clase, config.imagenes_cache_por_clase, semilla, ETIQUETA
    )
    if curva:
        de_curva = [e for e in estrategias if e in ESTRATEGIAS_CURVA]
        for n in PUNTOS_CURVA[modo]:
            for s in range(semilla, semilla + SEMILLAS_CURVA[modo]):
                for c in _celdas_de(redes_curva, de_curva, n, n, s, _etiqueta_curva(n)):
                    i = next((i for i, otra in enumerate(celdas) if _misma_celda(c, otra)), None)
                    if i is None:
                        celdas.append(dataclasses.replace(c, en_curva=True))
                    else:  # la celda de la tabla sirve también como punto de la curva
                        celdas[i] = dataclasses.replace(celdas[i], en_curva=True)
        con_todas = [e for e in TODAS_EN_CURVA[modo] if e in estrategias]
        celdas += [
            dataclasses.replace(c, en_curva=True)
            for c in _celdas_de(redes_curva, con_todas, None, None, semilla, _etiqueta_curva(None))
        ]
        # La extracción de la tabla (la caché con todas las imágenes) es el último punto de su curva: sale gratis.
        celdas = [
            dataclasses.replace(c, en_curva=True)
            if c.estrategia == "extraccion" and c.arquitectura in redes_curva and c.etiqueta == ETIQUETA
            else c
            for c in celdas
        ]
    return celdas


def _celdas_de(redes, estrategias, n, n_cache, semilla, etiqueta) -> list[Celda]:
    """Celdas de un punto: la extracción entrena con la caché (n_cache); las demás, con n imágenes por clase."""
    celdas = [Celda(ARQ_DESDE_CERO, "desde_cero", n, semilla, etiqueta)] if "desde_cero" in estrategias else []
    for red in redes:
        for e in ESTRATEGIAS[1:]:
            if e in estrategias:
                celdas.append(Celda(red, e, n_cache if e == "extraccion" else n, semilla, etiqueta, False, n_cache))
    return celdas


def _misma_celda(a: Celda, b: Celda) -> bool:
    campos = ("arquitectura", "estrategia", "imagenes_por_clase", "semilla", "imagenes_cache")
    return all(getattr(a, c) == getattr(b, c) for c in campos)


def _clave(valores: dict) -> tuple:
    return tuple(valores.get(k) for k in CLAVE_CELDA)


def buscar_terminada(previos: list[dict], valores: dict) -> dict | None:
    """El registro más reciente de una celda ya terminada con la misma clave, o None."""
    clave = _clave(valores)
    iguales = [r for r in previos if _es_de_rejilla(r) and _clave(r) == clave]
    return max(iguales, key=lambda r: r.get("fecha", ""), default=None)


def estimar_segundos(celdas: list[Celda], referencia: Informe | None) -> float | None:
    """Segundos que costaría la rejilla según un informe medido antes (el de referencia), o None si no se sabe.

    El ajuste fino y su control incluyen en su tiempo la extracción de la que parten, que la rejilla paga
    una sola vez por red: aquí se descuenta.
    """
    if referencia is None:
        return None
    medidos = {
        (r["arquitectura"], r["estrategia"], r["imagenes_por_clase"]): r["segundos_total"]
        for r in referencia.registros + referencia.registros_curva
    }
    total = 0.0
    for c in celdas:
        segundos = medidos.get((c.arquitectura, c.estrategia, c.imagenes_por_clase))
        if segundos is None:
            return None
        if c.estrategia in recetas.DESDE_CABEZA:
            segundos -= medidos.get((c.arquitectura, "extraccion", c.imagenes_cache), 0.0)
        total += max(segundos, 0.0)
    return total


# --- Ejecución -----------------------------------------------------------------------------------


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


def _config_de(modo, celda: Celda, epocas, tam_imagen) -> cfg.Config:
    config = cfg.obtener_config(
        modo, semilla=celda.semilla, imagenes_por_clase=celda.imagenes_por_clase, epocas=epocas, tam_imagen=tam_imagen
    )
    return dataclasses.replace(config, imagenes_cache_por_clase=celda.imagenes_cache)


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
        "receta": recetas.VERSION_RECETA,
        "imagenes_cache_por_clase": _cache_de(celda),
    }


def _cache_de(celda: Celda) -> int | None:
    """Las imágenes por clase de la caché de la que parte la celda: solo cuenta si parte de la cabeza."""
    return celda.imagenes_cache if celda.estrategia in recetas.DESDE_CABEZA else None


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
            extra["imagenes_cache_por_clase"] = _cache_de(celda)
        return {"etiqueta": celda.etiqueta, "anotaciones": extra}

    def omitir(self, celdas) -> None:
        for c in celdas:
            self.progreso.empezar(c)
            self.progreso.terminar(None, "omitida (sin pesos)")


def _pendientes(ej: _Ejecucion, grupo, tam) -> set[str]:
    """Estrategias del grupo sin registro terminado; las terminadas se reutilizan y se informan."""
    pendientes = set()
    for c in grupo:
        config = _config_de(ej.modo, c, ej.epocas, ej.tam_imagen)
        previo = buscar_terminada(ej.previos + ej.hechos, _valores_clave(c, config, ej.conjunto(config), tam))
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
    config = _config_de(
        ej.modo, dataclasses.replace(muestra, imagenes_por_clase=muestra.imagenes_cache), ej.epocas, ej.tam_imagen
    )
    inicio = time.perf_counter()
    if "extraccion" in pendientes:
        ej.progreso.empezar(por_estrategia["extraccion"])
    with _silencio(ej.silencioso):
        ext = recetas.extraccion_en_cache(
            muestra.arquitectura, ej.conjunto(config), config, tam, registrar="extraccion" in pendientes,
            **ej.anotaciones(por_estrategia.get("extraccion", muestra), config),
        )  # fmt: skip
    if "extraccion" in pendientes:
        ej.hechos.append(ext.resultado.registro)
        ej.progreso.terminar(ext.resultado.registro, "entrenada", time.perf_counter() - inicio)
    for estrategia in recetas.DESDE_CABEZA:
        if estrategia not in pendientes:
            continue
        celda = por_estrategia[estrategia]
        config = _config_de(ej.modo, celda, ej.epocas, ej.tam_imagen)
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
    config = _config_de(ej.modo, celda, ej.epocas, ej.tam_imagen)
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
    config0 = _config_de(modo, celdas[0], epocas, tam_imagen) if celdas else cfg.obtener_config(modo)
    ej = _Ejecucion(
        modo, epocas, tam_imagen, carpeta, silencioso, _Progreso(len(celdas)), Informe(modo, []),
        registros.leer(config0.resultados_dir, modo=modo),
    )  # fmt: skip
    print(f"Rejilla en modo {modo}: {len(celdas)} celdas. Resultados en {config0.resultados_dir}")
    if modo == "rapido":
        print("Modo rápido: muy pocas imágenes y épocas; los resultados son solo orientativos.")
    for grupo in _agrupar(celdas):
        _ejecutar_grupo(ej, grupo)
    resultado = ej.informe
    resultado.registros, resultado.registros_curva = _repartir(ej.hechos, celdas)
    resultado.segundos = time.perf_counter() - ej.progreso.inicio
    print(
        f"Rejilla terminada en {_hms(resultado.segundos)}: {resultado.entrenadas} celdas entrenadas, "
        f"{resultado.reutilizadas} reutilizadas, {len(resultado.omitidas)} red(es) omitida(s)."
    )
    if escribir:
        resultado.ruta = informe.escribir_informe(resultado, config0.resultados_dir)
        print(f"Informe: {resultado.ruta}")
    return resultado


def _agrupar(celdas: list[Celda]) -> list[list[Celda]]:
    """Junta extracción y ajuste fino de la misma red, n y semilla: el ajuste fino parte de la extracción."""
    grupos: dict[tuple, list[Celda]] = {}
    for c in celdas:
        clave = (c.arquitectura, c.semilla, c.etiqueta)  # la red entera: su ajuste fino parte de su caché
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
    """Red, estrategia, n, semilla y, si parte de la cabeza, su caché: el ajuste fino de la tabla (caché con
    todas) y el de la curva con el mismo n (caché de n) son celdas distintas."""
    if isinstance(x, dict):
        return (*(x[k] for k in ("arquitectura", "estrategia", "imagenes_por_clase", "semilla")),
                x.get("imagenes_cache_por_clase") if x["estrategia"] in recetas.DESDE_CABEZA else None)  # fmt: skip
    return x.arquitectura, x.estrategia, x.imagenes_por_clase, x.semilla, _cache_de(x)
