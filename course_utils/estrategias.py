"""Las tres estrategias del curso: CNN desde cero, extracción de características y ajuste fino.

Aquí viven los constructores de los modelos, las tasas de aprendizaje y las funciones que
entrenan cada receta. Los cuadernos 02, 04 y 05 las enseñan paso a paso; la rejilla de la
comparativa (`rejilla`), la orden `entrenar`, el cuaderno 08, la exportación y los
benchmarks las reutilizan desde aquí para que todos midan exactamente lo mismo.
"""

from __future__ import annotations

import dataclasses
import math

import keras

from course_utils import arquitecturas, caracteristicas, datos, dispositivo, entrenamiento, formato, medicion
from course_utils import config as cfg

ESTRATEGIAS = ("desde_cero", "extraccion", "extraccion_continuada", "fine_tuning")
# Un control del tamaño de entrada en la tabla de la comparativa: la misma extracción en caché (mismas imágenes,
# cabeza y semillas) al tamaño nativo de la red en vez del del modo. Con tus datos no hace falta: ya es el nativo.
EXTRACCION_NATIVA = "extraccion_nativa"
COLUMNAS_TABLA = ("desde_cero", "extraccion", EXTRACCION_NATIVA, "extraccion_continuada", "fine_tuning")
NOMBRES_ESTRATEGIA = {
    "desde_cero": "desde cero",
    "extraccion": "extracción",
    "extraccion_rapida": "extracción rápida (caché)",
    EXTRACCION_NATIVA: "extracción al tamaño nativo",
    "extraccion_continuada": "extracción continuada (control)",
    "fine_tuning": "ajuste fino",
}
# Las que parten de la cabeza entrenada sobre la caché: solo cambia si la base se descongela.
DESDE_CABEZA = ("extraccion_continuada", "fine_tuning")
SEMILLAS_CABEZA = 3  # cabezas por caché: la principal (la del registro y de McNemar) y dos semillas más
PACIENCIA_CABEZA = 15  # épocas sin mejorar val_loss antes de parar (la cabeza en caché es barata)
PACIENCIA_EXTREMO = 3
PACIENCIA_DESDE_CERO = 6
VERSION_RECETA = 3  # cambia cuando cambia una receta: los registros antiguos no se reutilizan
ARQ_DESDE_CERO = "cnn_desde_cero"
TAM_DESDE_CERO = 160  # el del cuaderno 02 cuando el modo no fija tamaño (completo)
TASA_CABEZA = 1e-3
TASA_AJUSTE_FINO = 1e-5
# Tus datos (orden `entrenar`): la fase 2 prueba dos tasas y elige en validación, hasta converger.
TASAS_TUS_DATOS = (TASA_AJUSTE_FINO, 1e-4)
PACIENCIA_TUS_DATOS = 5
PASADAS_TUS_DATOS = 7500  # imágenes vistas por la fase 2: 30 épocas con 250 imágenes, 5 con 1500
EPOCAS_MAX_TUS_DATOS = 30


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


def validar_estrategias(estrategias) -> list[str]:
    """Las estrategias pedidas, o un error en español que lista las válidas."""
    for e in estrategias:
        if e not in ESTRATEGIAS:
            raise ValueError(f"Estrategia desconocida: {e!r}. Las válidas son: {', '.join(ESTRATEGIAS)}.")
    return list(estrategias)


# --- Los tres modelos ----------------------------------------------------------------------------


def escalar(x):
    """Preprocesado de la CNN desde cero: píxeles de 0-255 a 0-1."""
    return x / 255.0


def construir_desde_cero(n_clases: int, tam: int, dropout: float = 0.5) -> keras.Model:
    """CNN compacta: cuatro bloques conv + pooling (32, 64, 128 y 128 filtros), GAP, dropout y softmax."""
    entrada = keras.Input((tam, tam, 3))
    x = entrada
    for filtros in (32, 64, 128, 128):
        x = keras.layers.Conv2D(filtros, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    salida = keras.layers.Dense(n_clases, activation="softmax", dtype="float32")(x)  # float32 con precisión mixta
    return keras.Model(entrada, salida, name="cnn_desde_cero")


def construir_cabeza(dimension: int, n_clases: int, dropout: float = 0.2) -> keras.Model:
    """La cabeza nueva sobre vectores de características ya promediados: Dropout + Dense softmax."""
    entrada = keras.Input((dimension,))
    x = keras.layers.Dropout(dropout)(entrada)
    salida = keras.layers.Dense(n_clases, activation="softmax", dtype="float32")(x)  # float32 con precisión mixta
    return keras.Model(entrada, salida, name="cabeza_en_cache")


def construir_extraccion(base: keras.Model, n_clases: int, tam: int, dropout: float = 0.2) -> keras.Model:
    """Base congelada llamada con training=False + GAP + Dropout + Dense."""
    base.trainable = False
    entrada = keras.Input((tam, tam, 3))
    # training=False: BatchNorm en inferencia mientras la base está congelada. En Keras 3.15, al descongelar,
    # `fit` lo anula (cuaderno 05, error 1); por eso `descongelar_desde` deja además las BatchNorm con trainable=False.
    x = base(entrada, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    salida = keras.layers.Dense(n_clases, activation="softmax", dtype="float32")(x)  # float32 con precisión mixta
    return keras.Model(entrada, salida, name=f"extraccion_{base.name}")


# --- Las recetas de entrenamiento ---------------------------------------------------------------


def conjunto_de_cache(conjunto, config: cfg.Config):
    """El conjunto para la caché: todas las imágenes de entrenamiento del modo (lo barato usa todos los datos).

    Sale de la misma partición que `conjunto`, así que validación y prueba son las mismas imágenes y las
    estrategias se comparan sobre la misma prueba. Si el modo no distingue, es el propio `conjunto`.
    """
    if config.imagenes_cache_por_clase == config.imagenes_por_clase:
        return conjunto
    carpeta = None if conjunto.origen == "flores" else conjunto.raiz
    completo = datos.cargar_datos(config_de_cache(config), carpeta)
    completo.origen = conjunto.origen
    return completo


def config_de_cache(config: cfg.Config) -> cfg.Config:
    """La configuración de la caché: la del modo con `imagenes_cache_por_clase` como imágenes de entrenamiento."""
    return dataclasses.replace(config, imagenes_por_clase=config.imagenes_cache_por_clase)


def entrenar_desde_cero(
    conjunto, config: cfg.Config, tam: int, *, registrar: bool = False, etiqueta: str = "", anotaciones=None
) -> entrenamiento.Resultado:
    """Estrategia 1: la CNN compacta, con aumento de datos y sin pesos previos, hasta converger."""
    cfg.fijar_semillas(config.semilla)
    ejec = dispositivo.preparar(config.lote)
    config = ejec.ajustar(config)  # lote de los tf.data = lote global (lote del modo × réplicas)
    with ejec.ambito():  # modelo y compile dentro del scope de la estrategia, con su precisión
        modelo = entrenamiento.compilar(construir_desde_cero(len(conjunto.clases), tam), TASA_CABEZA, ejec.jit)
    return entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, arquitectura=ARQ_DESDE_CERO, estrategia="desde_cero", tam=tam,
        preprocesado=escalar, aumento=datos.bloque_aumento(semilla=config.semilla),
        epocas=config.epocas_desde_cero, paciencia=PACIENCIA_DESDE_CERO,
        registrar=registrar, etiqueta=etiqueta, anotaciones=anotaciones,
    )  # fmt: skip


@dataclasses.dataclass
class Extraccion:
    """La extracción en caché de una red: la base congelada, su cabeza entrenada y el resultado medido."""

    nombre: str
    base: keras.Model
    pesos: str
    tam: int
    resultado: entrenamiento.Resultado

    def modelo_completo(self) -> keras.Model:
        """Imagen → base congelada → GAP → Dropout → Dense con los pesos de la cabeza entrenada en caché."""
        modelo = construir_extraccion(self.base, self.resultado.registro["clases"], self.tam)
        modelo.layers[-1].set_weights(self.resultado.modelo.layers[-1].get_weights())
        return modelo


def extraccion_en_cache(nombre: str, conjunto_cache, config: cfg.Config, tam: int, *, registrar=False, etiqueta="",
                        anotaciones=None, estrategia: str = "extraccion") -> Extraccion:  # fmt: skip
    """Estrategia 2: una sola pasada por la base congelada y la cabeza entrenada hasta converger sobre la caché.

    Sin aumento de datos (la caché ve siempre los mismos vectores), con todas las imágenes de entrenamiento
    del modo y parada temprana sobre val_loss con un tope alto: cada época cuesta milisegundos.
    """
    config = config_de_cache(config)  # el registro dice con cuántas imágenes se entrenó de verdad
    arq = arquitecturas.obtener(nombre)
    ejec = dispositivo.preparar(config.lote)
    config = ejec.ajustar(config)  # lote de los tf.data = lote global (lote del modo × réplicas)
    with ejec.ambito():  # la base, dentro del scope de la estrategia y con su precisión
        base, origen = arquitecturas.cargar_base(nombre, "imagenet", tam, config)
    base.trainable = False
    ds = entrenamiento.preparar_datasets(conjunto_cache, config, tam, arq.preprocesado)  # sin aumento
    with medicion.Cronometro() as reloj:
        cache = [caracteristicas.extraer(base, d) for d in ds]  # la única pasada por la base
    comun = {"arquitectura": nombre, "tam": tam, "pesos": origen, "estrategia": estrategia}
    # La cabeza es barata: se repite con otras semillas sobre la misma caché (media y rango en el informe).
    otras = [_cabeza_en_cache(cache, conjunto_cache, config, ejec, s, registrar=False, **comun).registro
             for s in range(config.semilla + 1, config.semilla + SEMILLAS_CABEZA)]  # fmt: skip
    cabeza = construir_cabeza(cache[0][0].shape[1], len(conjunto_cache.clases))
    extra = {
        "segundos_extraccion": round(reloj.segundos, 3),
        "parametros_totales": int(base.count_params() + cabeza.count_params()),
        "mb_modelo": round(medicion.tamano_en_disco_mb(base) + medicion.tamano_en_disco_mb(cabeza), 2),
        # Lo que tarda de verdad una imagen: su pasada por la base (la cabeza es despreciable).
        "ms_por_imagen": round(1000 * reloj.segundos / max(sum(len(x) for x, _ in cache), 1), 3),
        "otras_semillas": [r["semilla"] for r in otras],
        "val_accuracy_otras_semillas": [r["val_accuracy"] for r in otras],
        "test_accuracy_otras_semillas": [r["test_accuracy"] for r in otras],
    }
    resultado = _cabeza_en_cache(
        cache, conjunto_cache, config, ejec, config.semilla, segundos_previos=reloj.segundos, registrar=registrar,
        etiqueta=etiqueta, anotaciones={**extra, **(anotaciones or {})}, **comun,
    )  # fmt: skip
    return Extraccion(nombre, base, origen, tam, resultado)


def _cabeza_en_cache(cache, conjunto_cache, config, ejec, semilla: int, **kwargs) -> entrenamiento.Resultado:
    """Entrena una cabeza nueva (con su semilla) sobre la caché, hasta converger, y evalúa la prueba."""
    config = dataclasses.replace(config, semilla=semilla)
    cfg.fijar_semillas(semilla)
    with ejec.ambito():
        cabeza = construir_cabeza(cache[0][0].shape[1], len(conjunto_cache.clases))
        entrenamiento.compilar(cabeza, TASA_CABEZA, ejec.jit)
    resultado = entrenamiento.entrenar_y_evaluar(
        cabeza, conjunto_cache, config, epocas=config.epocas_cabeza,
        datasets=caracteristicas.datasets_de_caracteristicas(cache, config.lote, semilla),
        paciencia=PACIENCIA_CABEZA, verbose=0, **kwargs,
    )  # fmt: skip
    print(resumen_cabeza(resultado.historial, config.epocas_cabeza, semilla))  # una línea, no una por época
    return resultado


def resumen_cabeza(historial: entrenamiento.Historial, tope: int, semilla: int | None = None) -> str:
    """Una línea por cabeza en caché: épocas, por qué paró y la mejor val_loss, cuyos pesos se restauran.

    «Cabeza en caché (semilla 42): 56 épocas (parada temprana); mejor val_loss 0,123 en la época 41…»
    """
    perdidas = historial.metricas["val_loss"]
    mejor = min(range(len(perdidas)), key=perdidas.__getitem__)
    motivo = "llegó al tope: puede no haber convergido" if historial.epocas >= tope else "parada temprana"
    quien = "Cabeza en caché" + (f" (semilla {semilla})" if semilla is not None else "")
    return (
        f"{quien}: {historial.epocas} épocas ({motivo}; tope {tope}); mejor val_loss "
        f"{formato.decimal(perdidas[mejor], 3)} en la época {mejor + 1}, cuyos pesos se restauran."
    )


def desde_cabeza(
    ext: Extraccion, estrategia: str, conjunto, config: cfg.Config, *, registrar=False, etiqueta="", anotaciones=None
) -> entrenamiento.Resultado:
    """Estrategias 3 y su control: parten de la cabeza ya entrenada en caché (la receta de Chollet y de Keras).

    - «fine_tuning»: descongela el último bloque (BatchNorm congelada), recompila con una tasa 100 veces
      menor y entrena de extremo a extremo con aumento de datos.
    - «extraccion_continuada» (control): lo mismo con la base congelada; si el ajuste fino gana, no es
      solo por entrenar más épocas.
    """
    ejec = dispositivo.preparar(config.lote)
    config = ejec.ajustar(config)  # lote de los tf.data = lote global (lote del modo × réplicas)
    modelo = _modelo_desde_cabeza(ext, estrategia, ejec, TASA_AJUSTE_FINO)
    try:
        return entrenamiento.entrenar_y_evaluar(
            modelo, conjunto, config, paciencia=PACIENCIA_EXTREMO,
            registrar=registrar, etiqueta=etiqueta, anotaciones=anotaciones, **_de_extremo_a_extremo(ext, estrategia, config),
        )  # fmt: skip
    finally:
        ext.base.trainable = False  # la base vuelve a quedar congelada para la siguiente receta


def _modelo_desde_cabeza(ext: Extraccion, estrategia: str, ejec, tasa: float) -> keras.Model:
    """Base (congelada o con el último bloque descongelado) + la cabeza de la caché, compilado con `tasa`."""
    with ejec.ambito():  # modelo y compile dentro del scope de la estrategia, con su precisión
        modelo = ext.modelo_completo()  # base congelada con la cabeza entrenada; training=False en la llamada
        if estrategia == "fine_tuning":
            arquitecturas.descongelar_desde(ext.base, arquitecturas.obtener(ext.nombre).punto_descongelar)
        return entrenamiento.compilar(modelo, tasa, ejec.jit)  # recompilar tras cambiar `trainable`, tasa baja


def _de_extremo_a_extremo(ext: Extraccion, estrategia: str, config: cfg.Config) -> dict:
    """Los argumentos comunes de la fase 2: imágenes con aumento de datos y la fase 1 sumada al historial."""
    return {
        "arquitectura": ext.nombre, "estrategia": estrategia, "tam": ext.tam, "pesos": ext.pesos,
        "preprocesado": arquitecturas.obtener(ext.nombre).preprocesado,
        "aumento": datos.bloque_aumento(semilla=config.semilla), "fase_previa": ext.resultado.historial,
    }  # fmt: skip


def ajuste_fino_con_tasa_elegida(
    ext: Extraccion, conjunto, config: cfg.Config, tasas=TASAS_TUS_DATOS, *, registrar=False, etiqueta=""
) -> entrenamiento.Resultado:
    """Tus datos: la fase 2 del ajuste fino con cada tasa candidata, y se queda la de menor val_loss.

    Cada candidata parte de los mismos pesos (la base preentrenada y la cabeza de la caché) y se entrena
    hasta converger (`PACIENCIA_TUS_DATOS`). La elección mira solo la validación: la prueba se evalúa una
    vez, para la elegida. El registro anota la tasa elegida y la val_loss de cada candidata; su tiempo
    suma el de todas.
    """
    ejec = dispositivo.preparar(config.lote)
    config = ejec.ajustar(config)
    comunes = _de_extremo_a_extremo(ext, "fine_tuning", config)
    ds = entrenamiento.preparar_datasets(conjunto, config, ext.tam, comunes["preprocesado"], comunes["aumento"])
    iniciales, candidatas = ext.base.get_weights(), []
    try:
        for tasa in tasas:
            ext.base.set_weights(iniciales)  # todas desde el mismo punto de partida
            cfg.fijar_semillas(config.semilla)
            modelo = _modelo_desde_cabeza(ext, "fine_tuning", ejec, tasa)
            historial = entrenamiento.entrenar(modelo, ds[0], ds[1], config.epocas, PACIENCIA_TUS_DATOS)
            perdida = min(historial.metricas["val_loss"])  # la de los pesos restaurados por la parada temprana
            candidatas.append((perdida, tasa, historial, modelo, modelo.get_weights()))
        perdida, tasa, historial, modelo, pesos = min(candidatas, key=lambda c: c[0])
        historial.segundos = sum(c[2].segundos for c in candidatas)  # el coste de la receta incluye todas
        modelo.set_weights(pesos)  # la base es compartida: la última candidata dejó en ella sus pesos
        anotaciones = {
            "tasa_ajuste_fino": tasa,
            "val_loss_por_tasa": {f"{t:.0e}": round(p, 4) for p, t, *_ in candidatas},
        }
        return entrenamiento.entrenar_y_evaluar(
            modelo, conjunto, config, datasets=ds, entrenado=historial, registrar=registrar, etiqueta=etiqueta,
            anotaciones=anotaciones, **comunes,
        )  # fmt: skip
    finally:
        ext.base.trainable = False


def epocas_tus_datos(imagenes_entrenamiento: int, epocas_del_modo: int) -> int:
    """Tope de épocas de la fase 2 con tus datos: unas `PASADAS_TUS_DATOS` imágenes vistas en total.

    Con pocas imágenes cada época es barata y hacen falta más para converger; nunca menos que las del modo
    ni más que `EPOCAS_MAX_TUS_DATOS`. La parada temprana corta antes si la validación deja de mejorar.
    """
    return max(
        epocas_del_modo, min(EPOCAS_MAX_TUS_DATOS, math.ceil(PASADAS_TUS_DATOS / max(imagenes_entrenamiento, 1)))
    )


def config_tus_datos(config: cfg.Config, conjunto, estrategia: str) -> cfg.Config:
    """Tus datos (`entrenar` y cuaderno 08): si la receta parte de la cabeza, la fase 2 llega a `epocas_tus_datos`."""
    if estrategia not in DESDE_CABEZA:
        return config
    n = len(conjunto.particiones["entrenamiento"])
    return dataclasses.replace(config, epocas=epocas_tus_datos(n, config.epocas))


def receta_de(columna: str) -> str:
    """La estrategia que entrena una columna de la tabla: la extracción al tamaño nativo es la extracción."""
    return "extraccion" if columna == EXTRACCION_NATIVA else columna


def tam_de(arquitectura: str, config: cfg.Config) -> int:
    """Tamaño de entrada de una red (o de la CNN desde cero) en la configuración dada."""
    if arquitectura == ARQ_DESDE_CERO:
        return config.tam_para(TAM_DESDE_CERO)
    return config.tam_para(arquitecturas.obtener(arquitectura).tam_defecto)


def entrenar_receta(
    arquitectura: str, estrategia: str, conjunto, config: cfg.Config, *, etiqueta: str = "", elegir_tasa=False
):
    """Entrena una estrategia con las funciones de la comparativa; devuelve (red, tamaño, Resultado).

    El modelo del Resultado recibe imágenes (para exportarlo). Con `etiqueta`, el resultado se anota en
    `registros.jsonl` (la orden `entrenar` usa «entrenar_cli»). Con `elegir_tasa`, el ajuste fino elige
    la tasa de la fase 2 en validación (`ajuste_fino_con_tasa_elegida`).
    """
    validar_estrategias([estrategia])
    if estrategia == "desde_cero":
        tam = tam_de(ARQ_DESDE_CERO, config)
        return (
            ARQ_DESDE_CERO,
            tam,
            entrenar_desde_cero(conjunto, config, tam, registrar=bool(etiqueta), etiqueta=etiqueta),
        )
    nombre = arquitecturas.obtener(arquitectura).nombre
    tam = tam_de(nombre, config)
    conjunto_cache = conjunto_de_cache(conjunto, config)
    registrar = bool(etiqueta) and estrategia == "extraccion"
    ext = extraccion_en_cache(nombre, conjunto_cache, config, tam, registrar=registrar, etiqueta=etiqueta)
    if estrategia == "extraccion":
        return nombre, tam, dataclasses.replace(ext.resultado, modelo=ext.modelo_completo())
    if elegir_tasa and estrategia == "fine_tuning":
        resultado = ajuste_fino_con_tasa_elegida(ext, conjunto, config, registrar=bool(etiqueta), etiqueta=etiqueta)
        return nombre, tam, resultado
    return nombre, tam, desde_cabeza(ext, estrategia, conjunto, config, registrar=bool(etiqueta), etiqueta=etiqueta)
