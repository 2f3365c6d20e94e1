"""Laboratorio de la cabeza en directo: reentrenarla sobre las características en caché y ver sus curvas (cuaderno 04).

Cada cambio de un control (red, imágenes por clase, épocas, tasa de aprendizaje o dropout) vuelve a entrenar
desde los mismos pesos iniciales la cabeza del curso (`estrategias.construir_cabeza`: Dropout + Dense softmax)
sobre las características ya extraídas y redibuja las curvas de pérdida y exactitud (entrenamiento discontinuo,
validación continua). Solo se usan entrenamiento y validación: la prueba no se mira.

Para que cada cambio tarde poco, el modelo se construye una sola vez por (red, dropout) y, con el motor «grafo»
(el de serie), todas las épocas corren en UNA llamada a un grafo de TensorFlow (`tf.function`): el mismo paso
que `fit` (la misma pérdida, Adam, Dropout activo al entrenar, métricas de entrenamiento promediadas durante la
época y validación al final de cada una) sin el coste fijo que `fit` paga en cada época, que con una cabeza tan
pequeña es casi todo el tiempo. `motor="fit"` entrena con `entrenamiento.entrenar` (el `fit` del curso) para
comparar; `tests/test_laboratorio.py` comprueba que los dos dan las mismas curvas.

Inofensivo bajo papermill: se entrena una vez al crearlo, se muestra una sola vez y escribe un resumen en texto.
"""

from __future__ import annotations

import time

import ipywidgets as w
import keras
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from course_utils import entrenamiento, estrategias, formato, graficos
from course_utils.panel import Panel
from course_utils.panel import png as _png
from course_utils.panel import pre as _pre

TODAS = 0  # valor de «imágenes por clase» que usa todo el entrenamiento en caché
TASAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
POR_CLASE = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
EPOCAS_MAX = 100
LOTE = 256  # grande a propósito: menos pasos por época (el curso entrena la cabeza con lotes de 16 o 32)
MOTORES = ("grafo", "fit")
ANTERIORES = 5  # ajustes anteriores que se listan bajo el resultado


class Laboratorio(Panel):
    """El panel del laboratorio: controles, texto y curvas; se muestra una sola vez (como los de `widgets`)."""

    def __init__(self, controles: dict, texto: w.HTML, imagen: w.Image | None = None):
        super().__init__("laboratorio de la cabeza", controles, texto, imagen, envolver=True)
        self.ultimo: dict | None = None  # ajustes, curvas y segundos del último entrenamiento
        self.resumen = ""  # el texto del panel, sin HTML
        self.anteriores: list[dict] = []
        self.entrenamientos = 0


# --- Los datos: la caché de cada red y su submuestra --------------------------------------------


def preparar_caches(caches: dict, n_clases: int) -> dict[str, tuple[np.ndarray, ...]]:
    """{red: (X_tr, y_tr, X_val, y_val)} en float32/int32, o un ValueError en español que dice qué falla.

    Cada valor es lo que devuelve `caracteristicas.extraer` para entrenamiento y validación: `((X_tr, y_tr),
    (X_val, y_val))`. Se acepta también la lista de tres particiones del cuaderno 04; la tercera (prueba) se ignora.
    """
    if not caches:
        raise ValueError(
            "No hay características en caché: pasa un diccionario {red: ((X_tr, y_tr), (X_val, y_val))} con lo que "
            "devuelve caracteristicas.extraer para entrenamiento y validación (cuaderno 04, sección 2)."
        )
    salida = {}
    for red, particiones in caches.items():
        try:
            (x, y), (xv, yv) = list(particiones)[:2]
            x, xv = np.asarray(x, np.float32), np.asarray(xv, np.float32)
            y, yv = np.asarray(y).astype(np.int32), np.asarray(yv).astype(np.int32)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"La caché de «{red}» no tiene la forma ((X_tr, y_tr), (X_val, y_val)) ({type(exc).__name__}: {exc})."
            ) from exc
        if x.ndim != 2 or xv.ndim != 2 or x.shape[1] != xv.shape[1]:
            raise ValueError(
                f"La caché de «{red}» debe tener un vector por imagen, del mismo tamaño en las dos particiones, y "
                f"llegaron {x.shape} y {xv.shape}: usa caracteristicas.extraer, que promedia los mapas de activación."
            )
        if len(x) != len(y) or len(xv) != len(yv) or not len(x) or not len(xv):
            raise ValueError(
                f"La caché de «{red}» tiene {len(x)} vectores y {len(y)} etiquetas de entrenamiento, y {len(xv)} y "
                f"{len(yv)} de validación: deben coincidir y no estar vacías."
            )
        etiquetas = np.concatenate([y, yv])
        if etiquetas.min() < 0 or etiquetas.max() >= n_clases:
            raise ValueError(
                f"La caché de «{red}» tiene etiquetas de {etiquetas.min()} a {etiquetas.max()}, y hay {n_clases} "
                "clases: pasa la lista de clases del mismo conjunto (conjunto.clases)."
            )
        salida[str(red)] = (x, y, xv, yv)
    return salida


def submuestra(y: np.ndarray, por_clase: int, semilla: int = 0) -> np.ndarray:
    """Índices de `por_clase` imágenes de cada clase (o de todas con `TODAS`), estratificados y deterministas.

    Cada clase se baraja una vez con la semilla y se toman sus primeras imágenes, así que la muestra de 10 por clase
    contiene la de 5: al mover el control solo se añaden o quitan imágenes.
    """
    y = np.asarray(y)
    if por_clase == TODAS:
        return np.arange(len(y))
    rng = np.random.default_rng(semilla)
    elegidos = [rng.permutation(np.flatnonzero(y == c))[:por_clase] for c in np.unique(y)]
    return np.sort(np.concatenate(elegidos))


def _opciones_por_clase(caches: dict) -> list[tuple[str, int]]:
    """Los valores del control «imágenes por clase»: los de `POR_CLASE` que caben en todas las redes, y «todas»."""
    minimo = min(int(np.unique(y, return_counts=True)[1].min()) for _, y, _, _ in caches.values())
    return [(str(n), n) for n in POR_CLASE if n < minimo] + [("todas", TODAS)]


# --- El entrenamiento: un modelo por (red, dropout) y los mismos pesos iniciales cada vez ------------------


def _pesos_iniciales(modelo: keras.Model, semilla: int) -> list[np.ndarray]:
    """Glorot uniforme con semilla propia (sin tocar la semilla global del cuaderno) y la semilla del Dropout fija."""
    rng = np.random.default_rng(semilla)
    for capa in modelo.layers:
        if isinstance(capa, keras.layers.Dense):
            entrada, salida = capa.kernel.shape
            limite = np.sqrt(6 / (entrada + salida))
            capa.kernel.assign(rng.uniform(-limite, limite, (entrada, salida)).astype(np.float32))
            capa.bias.assign(np.zeros(salida, np.float32))
        elif getattr(capa, "seed_generator", None) is not None:  # Dropout (con rate=0 no tiene generador)
            estado = capa.seed_generator.state
            estado.assign(np.array([semilla, 0], dtype=estado.dtype))
    return [np.array(v.numpy()) for v in modelo.variables]


def _bucle_grafo(modelo: keras.Model, optimizador, dimension: int):
    """Todas las épocas en un solo `tf.function`: barajar, pasos de Adam y métricas de cada época."""
    import tensorflow as tf

    perdida = keras.losses.SparseCategoricalCrossentropy()
    variables = modelo.trainable_variables
    optimizador.build(variables)
    vectores, etiquetas, escalar = (
        tf.TensorSpec((None, dimension)),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((), tf.int32),
    )

    def aciertos(y, p):
        return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(p, axis=1, output_type=tf.int32), y), tf.float32))

    @tf.function(input_signature=[vectores, etiquetas, vectores, etiquetas, escalar, escalar, escalar])
    def bucle(x, y, xv, yv, epocas, lote, semilla):
        n = tf.shape(x)[0]
        pasos, total, n_val = (n + lote - 1) // lote, tf.cast(n, tf.float32), tf.cast(tf.shape(xv)[0], tf.float32)
        curvas = tf.TensorArray(tf.float32, size=epocas)
        for epoca in tf.range(epocas):
            orden = tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.stack([semilla, epoca]))
            suma_perdida, suma_aciertos = tf.constant(0.0), tf.constant(0.0)
            for paso in tf.range(pasos):
                indices = orden[paso * lote : tf.minimum((paso + 1) * lote, n)]
                xb, yb = tf.gather(x, indices), tf.gather(y, indices)
                with tf.GradientTape() as cinta:
                    probs = modelo(xb, training=True)
                    valor = perdida(yb, probs)
                optimizador.apply_gradients(zip(cinta.gradient(valor, variables), variables))
                suma_perdida += valor * tf.cast(tf.shape(indices)[0], tf.float32)
                suma_aciertos += aciertos(yb, probs)
            probs_val = modelo(xv, training=False)
            fila = [
                suma_perdida / total,
                suma_aciertos / total,
                perdida(yv, probs_val),
                aciertos(yv, probs_val) / n_val,
            ]
            curvas = curvas.write(epoca, tf.stack(fila))
        return curvas.stack()

    return bucle


class Entrenador:
    """Entrena la cabeza del curso sobre la caché de cada red; construye un modelo por (red, dropout)."""

    def __init__(self, caches: dict, n_clases: int, lote: int = LOTE, semilla: int = 42, motor: str = "grafo"):
        if motor not in MOTORES:
            raise ValueError(f"Motor desconocido: {motor!r}. Los válidos son: {', '.join(MOTORES)}.")
        self.caches, self.n_clases, self.lote, self.semilla, self.motor = caches, n_clases, lote, semilla, motor
        self._modelos: dict[tuple[str, float], dict] = {}

    def _modelo(self, red: str, dropout: float) -> tuple[dict, bool]:
        clave = (red, round(float(dropout), 3))
        if clave in self._modelos:
            return self._modelos[clave], False
        dimension = self.caches[red][0].shape[1]
        modelo = estrategias.construir_cabeza(dimension, self.n_clases, dropout)
        iniciales = _pesos_iniciales(modelo, self.semilla)
        if self.motor == "fit":
            entrenamiento.compilar(modelo, estrategias.TASA_CABEZA)
            optimizador, bucle = modelo.optimizer, None
        else:
            optimizador = keras.optimizers.Adam(estrategias.TASA_CABEZA)
            bucle = _bucle_grafo(modelo, optimizador, dimension)
        self._modelos[clave] = {"modelo": modelo, "optimizador": optimizador, "bucle": bucle, "iniciales": iniciales}
        return self._modelos[clave], True

    def entrenar(self, red: str, por_clase: int, epocas: int, tasa: float, dropout: float) -> dict:
        """Reentrena desde los pesos iniciales; devuelve curvas (como `History.history`), segundos y tamaños."""
        inicio = time.perf_counter()
        m, nuevo = self._modelo(red, dropout)
        x, y, xv, yv = self.caches[red]
        indices = submuestra(y, por_clase, self.semilla)
        for variable, valor in zip(m["modelo"].variables, m["iniciales"]):
            variable.assign(valor)
        for variable in m["optimizador"].variables:  # Adam desde cero: paso 0, momentos a 0
            variable.assign(np.zeros(variable.shape, variable.dtype))
        m["optimizador"].learning_rate = tasa
        if m["bucle"] is not None:
            filas = m["bucle"](x[indices], y[indices], xv, yv, int(epocas), int(self.lote), int(self.semilla))
            curvas = np.asarray(filas, dtype=np.float64).reshape(-1, 4)
            metricas = {
                k: curvas[:, i].tolist() for i, k in enumerate(("loss", "accuracy", "val_loss", "val_accuracy"))
            }
        else:
            import tensorflow as tf

            ds = tf.data.Dataset.from_tensor_slices((x[indices], y[indices]))
            ds = ds.shuffle(len(indices), seed=self.semilla).batch(self.lote)
            val = tf.data.Dataset.from_tensors((xv, yv))
            metricas = entrenamiento.entrenar(
                m["modelo"], ds, val, int(epocas), paciencia=int(epocas), verbose=0
            ).metricas
        segundos = time.perf_counter() - inicio
        return {"metricas": metricas, "segundos": segundos, "nuevo": nuevo, "n": len(indices), "n_val": len(yv)}


# --- El panel ---------------------------------------------------------------------------------------------


def _ajustes_texto(a: dict) -> str:
    por_clase = "todas las imágenes" if a["por_clase"] == TODAS else f"{a['por_clase']} imágenes por clase"
    return (
        f"{estrategias.titulo_red(a['red'])} · {por_clase} · {a['epocas']} épocas · "
        f"tasa {formato.decimal(a['tasa'])} · dropout {formato.decimal(a['dropout'])}"
    )


def _texto(a: dict, r: dict, lote: int, segundos_figura: float, anteriores: list[dict]) -> str:
    m = r["metricas"]
    mejor, minimo = int(np.argmax(m["val_accuracy"])), int(np.argmin(m["val_loss"]))
    subida = m["val_loss"][-1] - m["val_loss"][minimo]
    lineas = [
        f"{_ajustes_texto(a)} ({formato.entero(r['n'])} vectores de entrenamiento, lote de {lote})",
        f"Exactitud de validación: {formato.decimal(m['val_accuracy'][-1], 3)} en la última época; la mejor, "
        f"{formato.decimal(m['val_accuracy'][mejor], 3)}, en la época {mejor + 1}.",
        f"Pérdida de validación mínima en la época {minimo + 1}"
        + (f"; después sube {formato.decimal(subida, 3)}: sobreajuste." if subida > 0.01 else "."),
        f"Reentrenada en {formato.decimal(r['segundos'], 2)} s (figura: {formato.decimal(segundos_figura, 2)} s)"
        + ("; incluye preparar el modelo de esta red con este dropout, solo la primera vez." if r["nuevo"] else "."),
        f"Validación: {formato.entero(r['n_val'])} imágenes (cada una mueve la exactitud "
        f"{formato.decimal(1 / r['n_val'], 3)}). Sin parada temprana ni aumento de datos; la prueba no se mira.",
    ]
    if anteriores:
        lineas.append("Antes:")
        lineas += [
            f"  {_ajustes_texto(p['ajustes'])} → {formato.decimal(p['metricas']['val_accuracy'][-1], 3)}"
            for p in reversed(anteriores[-ANTERIORES:])
        ]
    return "\n".join(lineas)


def _figura(a: dict, metricas: dict) -> Figure:
    fig = Figure(figsize=(9, 3.2))
    ejes = fig.subplots(1, 2)
    graficos.curvas(metricas, _ajustes_texto(a), ax=ejes)
    ejes[1].set_ylim(0, 1.02)  # la misma escala en cada ajuste, para comparar a simple vista
    return fig


def _opciones(valores, elegido) -> list[tuple[str, float]]:
    return [(formato.decimal(v), v) for v in sorted({*valores, float(elegido)})]


def laboratorio_cabeza(
    caches: dict,
    clases,
    *,
    red: str | None = None,
    imagenes_por_clase: int | None = None,
    epocas: int = 30,
    tasa: float = estrategias.TASA_CABEZA,
    dropout: float = 0.2,
    lote: int = LOTE,
    semilla: int = 42,
    motor: str = "grafo",
) -> Laboratorio:
    """Reentrena en directo la cabeza sobre la caché de cada red: controles de red, imágenes por clase, épocas,
    tasa de aprendizaje y dropout (cuaderno 04). `caches`: {red: ((X_tr, y_tr), (X_val, y_val))}; None en
    `imagenes_por_clase` = todas.
    """
    clases = [str(c) for c in clases]
    try:
        datos = preparar_caches(caches, len(clases))
        entrenador = Entrenador(datos, len(clases), lote, semilla, motor)
    except ValueError as exc:
        mensaje = f"No se puede preparar el laboratorio de la cabeza: {exc}"
        panel = Laboratorio({}, w.HTML(_pre(mensaje)))
        panel.resumen = mensaje
        display(panel)
        print(mensaje)
        return panel
    redes = list(datos)
    por_clase = _opciones_por_clase(datos)
    elegido = imagenes_por_clase or TODAS
    if elegido not in [v for _, v in por_clase]:
        por_clase = sorted([*por_clase[:-1], (str(elegido), elegido)], key=lambda o: o[1]) + [por_clase[-1]]
    deslizador = {"continuous_update": False, "style": {"description_width": "initial"}}
    controles = {
        "red": w.Dropdown(
            options=[(estrategias.titulo_red(r), r) for r in redes], value=red or redes[0], description="Red:"
        ),
        "imagenes": w.SelectionSlider(
            options=por_clase, value=elegido, description="Imágenes por clase:", **deslizador
        ),
        "epocas": w.IntSlider(value=epocas, min=1, max=max(EPOCAS_MAX, epocas), description="Épocas:", **deslizador),
        "tasa": w.SelectionSlider(options=_opciones(TASAS, tasa), value=tasa, description="Tasa:", **deslizador),
        "dropout": w.SelectionSlider(
            options=_opciones(DROPOUTS, dropout), value=dropout, description="Dropout:", **deslizador
        ),
    }
    texto, imagen = w.HTML(), w.Image(format="png")
    panel = Laboratorio(controles, texto, imagen)

    def actualizar(_=None):
        try:
            ajustes = {
                "red": controles["red"].value,
                "por_clase": controles["imagenes"].value,
                "epocas": int(controles["epocas"].value),
                "tasa": float(controles["tasa"].value),
                "dropout": float(controles["dropout"].value),
            }
            texto.value = _pre(f"Reentrenando: {_ajustes_texto(ajustes)}…")
            resultado = entrenador.entrenar(ajustes["red"], **{k: v for k, v in ajustes.items() if k != "red"})
            inicio = time.perf_counter()
            png = _png(_figura(ajustes, resultado["metricas"]))
            if panel.ultimo is not None:
                panel.anteriores.append(panel.ultimo)
            panel.ultimo = {"ajustes": ajustes, **resultado}
            panel.entrenamientos += 1
            imagen.value = png
            panel.resumen = _texto(ajustes, resultado, lote, time.perf_counter() - inicio, panel.anteriores)
            texto.value = _pre(panel.resumen)
        except Exception as exc:  # noqa: BLE001 - una demostración en directo no debe romperse en silencio
            panel.resumen = f"No se pudo reentrenar la cabeza: {type(exc).__name__}: {exc}"
            texto.value = _pre(panel.resumen)

    for control in controles.values():
        control.observe(actualizar, names="value")
    actualizar()
    display(panel)
    print(panel.resumen)
    return panel
