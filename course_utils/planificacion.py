"""El plan de la rejilla de la comparativa: qué celdas hay, cómo se reconoce una ya terminada y cuánto costará.

Una celda es una (red, estrategia, imágenes por clase, semilla) de la tabla o de la curva de datos. Aquí se
decide cuáles se entrenan (`planificar`), con qué configuración (`config_de`), con qué clave se reconoce un
registro ya terminado para reanudar sin repetir trabajo (`valores_clave`, `buscar_terminada`) y cuánto tardará
según un informe medido antes (`estimar_segundos`). Quien las entrena es `rejilla`.
"""

from __future__ import annotations

import dataclasses

from course_utils import arquitecturas
from course_utils import config as cfg
from course_utils import estrategias as recetas
from course_utils.estrategias import ARQ_DESDE_CERO, ESTRATEGIAS, EXTRACCION_NATIVA
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
# El control del tamaño de entrada: la extracción en caché de la tabla repetida al tamaño nativo de la red.
# En clase, solo donde es barato (unos 2 min cada una en 2 núcleos, el doble que a 160 px); VGG16 a 224 px y
# Xception a 299 px pasarían la rejilla de su presupuesto. En completo el tamaño del modo ya es el nativo.
NATIVO_POR_MODO = {"rapido": ("squeezenet",), "clase": ("mobilenet_v2", "squeezenet"), "completo": ()}
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
    if "extraccion" in estrategias:
        n = config.imagenes_cache_por_clase
        celdas += [
            Celda(r, EXTRACCION_NATIVA, n, semilla, ETIQUETA, False, n) for r in redes if r in NATIVO_POR_MODO[modo]
        ]
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


def config_de(modo, celda: Celda, epocas, tam_imagen) -> cfg.Config:
    """La configuración de una celda; la extracción al tamaño nativo lleva `tam_imagen` None (el de la red)."""
    config = cfg.obtener_config(
        modo, semilla=celda.semilla, imagenes_por_clase=celda.imagenes_por_clase, epocas=epocas, tam_imagen=tam_imagen
    )
    nativo = {"tam_imagen": None} if celda.estrategia == EXTRACCION_NATIVA else {}
    return dataclasses.replace(config, imagenes_cache_por_clase=celda.imagenes_cache, **nativo)


def valores_clave(celda: Celda, config: cfg.Config, conjunto, tam: int) -> dict:
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
        "imagenes_cache_por_clase": cache_de(celda),
    }


def cache_de(celda: Celda) -> int | None:
    """Las imágenes por clase de la caché de la que parte la celda: solo cuenta si parte de la cabeza."""
    return celda.imagenes_cache if celda.estrategia in recetas.DESDE_CABEZA else None


def agrupar(celdas: list[Celda]) -> list[list[Celda]]:
    """Junta extracción y ajuste fino de la misma red, n y semilla: el ajuste fino parte de la extracción."""
    grupos: dict[tuple, list[Celda]] = {}
    for c in celdas:
        # La red entera: su ajuste fino parte de su caché. Al tamaño nativo, otra caché: otro grupo.
        clave = (c.arquitectura, c.semilla, c.etiqueta, c.estrategia == EXTRACCION_NATIVA)
        grupos.setdefault(clave, []).append(c)
    return list(grupos.values())


def repartir(hechos: list[dict], celdas: list[Celda]) -> tuple[list[dict], list[dict]]:
    """Registros de la tabla (celdas de la rejilla) y de la curva (las de la curva y las compartidas)."""
    tabla_celdas = {clave_corta(c) for c in celdas if c.etiqueta == ETIQUETA}
    curva_celdas = {clave_corta(c) for c in celdas if c.en_curva}
    de_tabla = [r for r in hechos if clave_corta(r) in tabla_celdas]
    de_curva = [r for r in hechos if clave_corta(r) in curva_celdas]
    return de_tabla, de_curva


def clave_corta(x) -> tuple:
    """Red, estrategia, n, semilla y, si parte de la cabeza, su caché: el ajuste fino de la tabla (caché con
    todas) y el de la curva con el mismo n (caché de n) son celdas distintas. Solo los registros que parten de
    la cabeza anotan su caché (`_Ejecucion.anotaciones` en `rejilla`), así que basta leerla."""
    if isinstance(x, dict):
        campos = ("arquitectura", "estrategia", "imagenes_por_clase", "semilla")
        return (*(x[k] for k in campos), x.get("imagenes_cache_por_clase"))
    return x.arquitectura, x.estrategia, x.imagenes_por_clase, x.semilla, cache_de(x)
