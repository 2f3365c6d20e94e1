"""Dónde y cómo se entrena: CPU, una GPU o varias, precisión y XLA, elegidos solos y anunciados en una línea.

Lo que se elige sin que nadie toque nada:

| máquina | estrategia de `tf.distribute` | precisión | XLA (`jit_compile`) |
|---|---|---|---|
| sin GPU | la predeterminada, en la CPU | float32 | no |
| una GPU | la predeterminada (un dispositivo) | `mixed_float16` si su capacidad de cómputo es 7.0 o más | sí |
| varias GPU | `tf.distribute.MirroredStrategy`: una copia del modelo por GPU | como arriba, si todas la tienen | no (como hace Keras con `tf.distribute`) |

- **Precisión mixta** (`mixed_float16`): las cuentas en float16 y las variables en float32. Solo ayuda en
  GPU con núcleos tensor (capacidad ≥ 7.0: Volta, Turing, Ampere, Ada, Hopper); en la CPU se queda float32.
  La capa de salida (la `Dense` con softmax) va siempre en float32 para que las probabilidades no pierdan precisión.
- **Varias GPU**: el modelo y su `compile` se crean dentro de `estrategia.scope()` y cada lote se reparte
  entre las réplicas, así que el lote de los `tf.data` es el **global**: lote por réplica × réplicas.
- **Dónde se aplica**: en las recetas de `course_utils.estrategias` (desde cero, extracción y ajuste fino),
  que usan la comparativa, la orden `entrenar` y los cuadernos que las llaman. Un modelo propio de un
  cuaderno usa lo mismo si se construye y compila dentro de `ejecucion.ambito()`.

Variables de entorno para forzar una decisión (vacías o `auto`: la elección automática de arriba):

- `CURSO_PRECISION=float32` o `CURSO_PRECISION=mixed_float16`;
- `CURSO_XLA=0` (sin XLA) o `CURSO_XLA=1` (con XLA);
- para usar una sola GPU de varias: `CUDA_VISIBLE_DEVICES=0` (de CUDA, antes de abrir el cuaderno).

TensorFlow se importa solo al llamar a las funciones, no al importar este módulo.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

VARIABLE_PRECISION = "CURSO_PRECISION"
VARIABLE_XLA = "CURSO_XLA"
PRECISIONES = ("float32", "mixed_float16")
CAPACIDAD_MINIMA_MIXTA = (7, 0)  # núcleos tensor: desde Volta (7.0)
_VERDADERO, _FALSO = ("1", "si", "sí", "true", "on"), ("0", "no", "false", "off")


@dataclasses.dataclass(frozen=True)
class GPU:
    """Una GPU física: su nombre y su capacidad de cómputo (mayor, menor), si se conoce."""

    nombre: str
    capacidad: tuple[int, int] | None = None


@dataclasses.dataclass(frozen=True)
class Ejecucion:
    """Lo elegido para entrenar: dispositivo, estrategia, réplicas, precisión, XLA y lote global."""

    dispositivo: str
    nombre_estrategia: str
    replicas: int
    precision: str
    jit: bool
    lote_por_replica: int
    origen_precision: str = "automática"
    origen_jit: str = "automático"

    @property
    def lote_global(self) -> int:
        """El lote de los `tf.data`: `MirroredStrategy` lo reparte entre las réplicas."""
        return self.lote_por_replica * self.replicas

    @property
    def mixta(self) -> bool:
        return self.precision == "mixed_float16"

    @property
    def estrategia(self):
        """La estrategia de `tf.distribute` (se crea la primera vez y se reutiliza en todo el proceso)."""
        return obtener_estrategia(self.replicas)

    @contextlib.contextmanager
    def ambito(self):
        """Dentro: el `scope()` de la estrategia y la política de precisión elegida; al salir, la anterior.

        Construye y compila aquí el modelo (la base preentrenada incluida): sus variables quedan en las réplicas
        y sus capas con la precisión elegida. `fit`, `evaluate` y `predict` pueden ir fuera.
        """
        import keras

        anterior = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.precision)
        try:
            with self.estrategia.scope():
                yield self.estrategia
        finally:
            keras.config.set_dtype_policy(anterior)

    def ajustar(self, config):
        """La misma configuración con el lote global (igual que la original con una sola réplica)."""
        return config if config.lote == self.lote_global else dataclasses.replace(config, lote=self.lote_global)


# --- Detección ---------------------------------------------------------------------------------------


def detectar_gpus() -> list[GPU]:
    """Las GPU físicas que ve TensorFlow, con su nombre y capacidad de cómputo (las pruebas la sustituyen)."""
    import tensorflow as tf

    gpus = []
    for fisica in tf.config.list_physical_devices("GPU"):
        try:
            detalles = tf.config.experimental.get_device_details(fisica)
        except Exception:  # noqa: BLE001 - sin detalles (otros fabricantes): se usa el nombre del dispositivo
            detalles = {}
        capacidad = detalles.get("compute_capability")
        gpus.append(GPU(detalles.get("device_name", fisica.name), tuple(capacidad) if capacidad else None))
    return gpus


def _crear_espejo():
    import tensorflow as tf

    return tf.distribute.MirroredStrategy()


# Quién crea la estrategia de varias GPU; las pruebas ponen aquí una sobre dos CPU lógicas.
FABRICA_ESPEJO = _crear_espejo
_ESTRATEGIAS: dict[int, object] = {}


def obtener_estrategia(replicas: int):
    """La predeterminada con una réplica; `MirroredStrategy` (creada una sola vez por proceso) con varias."""
    import tensorflow as tf

    if replicas <= 1:
        return tf.distribute.get_strategy()
    if replicas not in _ESTRATEGIAS:
        estrategia = FABRICA_ESPEJO()
        if estrategia.num_replicas_in_sync != replicas:
            raise RuntimeError(
                f"Se esperaban {replicas} réplicas y MirroredStrategy tiene {estrategia.num_replicas_in_sync}: "
                "¿ha cambiado CUDA_VISIBLE_DEVICES con el proceso en marcha? Reinicia el núcleo."
            )
        _ESTRATEGIAS[replicas] = estrategia
    return _ESTRATEGIAS[replicas]


# --- Decisiones --------------------------------------------------------------------------------------


def _entorno(entorno, variable: str) -> str:
    valor = (os.environ if entorno is None else entorno).get(variable, "")
    return valor.strip().lower()


def elegir_precision(gpus: list[GPU], entorno=None) -> tuple[str, str]:
    """(precisión, origen): `mixed_float16` solo si hay GPU y todas tienen capacidad ≥ 7.0; si no, float32."""
    pedida = _entorno(entorno, VARIABLE_PRECISION)
    if pedida and pedida != "auto":
        if pedida not in PRECISIONES:
            raise ValueError(
                f"{VARIABLE_PRECISION}={pedida!r} no es válida: usa float32, mixed_float16 o auto "
                "(o bórrala para la elección automática)."
            )
        return pedida, VARIABLE_PRECISION
    capaces = bool(gpus) and all(g.capacidad and tuple(g.capacidad) >= CAPACIDAD_MINIMA_MIXTA for g in gpus)
    return ("mixed_float16" if capaces else "float32"), "automática"


def elegir_jit(gpus: list[GPU], entorno=None) -> tuple[bool, str]:
    """(jit_compile, origen): XLA con una GPU; sin XLA en la CPU y con varias GPU (Keras lo apaga con tf.distribute)."""
    pedido = _entorno(entorno, VARIABLE_XLA)
    if pedido and pedido != "auto":
        if pedido in _VERDADERO:
            return True, VARIABLE_XLA
        if pedido in _FALSO:
            return False, VARIABLE_XLA
        raise ValueError(f"{VARIABLE_XLA}={pedido!r} no es válido: usa 1 (con XLA), 0 (sin XLA) o auto.")
    return len(gpus) == 1, "automático"


def _nombre_dispositivo(gpus: list[GPU]) -> str:
    if not gpus:
        return "CPU"
    nombres = sorted({g.nombre for g in gpus})
    capacidades = sorted({".".join(map(str, g.capacidad)) for g in gpus if g.capacidad})
    detalle = ", ".join(nombres) + (f", capacidad {'/'.join(capacidades)}" if capacidades else "")
    return f"{len(gpus)} GPU ({detalle})"


def preparar(lote: int = 32, *, gpus: list[GPU] | None = None, entorno=None) -> Ejecucion:
    """Elige estrategia, precisión y XLA para esta máquina; `lote` es el de cada réplica (el del modo)."""
    gpus = detectar_gpus() if gpus is None else list(gpus)
    precision, origen_precision = elegir_precision(gpus, entorno)
    jit, origen_jit = elegir_jit(gpus, entorno)
    replicas = max(len(gpus), 1)
    if replicas > 1:
        estrategia = "MirroredStrategy"
    else:
        estrategia = "la predeterminada de TensorFlow" + (" en la CPU" if not gpus else " en la GPU")
    return Ejecucion(
        _nombre_dispositivo(gpus), estrategia, replicas, precision, jit, lote, origen_precision, origen_jit
    )


def anuncio(ejecucion: Ejecucion) -> str:
    """Una línea en español con el dispositivo, la estrategia, la precisión, XLA y el lote."""
    forzada = f", por {ejecucion.origen_precision}" if ejecucion.origen_precision != "automática" else ""
    precision = ejecucion.precision + (" (salida en float32)" if ejecucion.mixta else "") + forzada
    xla = ("sí" if ejecucion.jit else "no") + (
        f", por {ejecucion.origen_jit}" if ejecucion.origen_jit != "automático" else ""
    )
    replicas = f"{ejecucion.replicas} réplica" + ("s" if ejecucion.replicas > 1 else "")
    lote = f"{ejecucion.lote_global}" + (
        f" ({ejecucion.lote_por_replica} por réplica)" if ejecucion.replicas > 1 else ""
    )
    return (
        f"Dispositivo: {ejecucion.dispositivo} · estrategia: {ejecucion.nombre_estrategia} ({replicas}) · "
        f"precisión: {precision} · XLA (jit_compile): {xla} · lote global: {lote}"
    )
