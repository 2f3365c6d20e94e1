"""Registro de las siete redes, resolución de pesos preentrenados y congelación por bloques."""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import keras

from course_utils import squeezenet
from course_utils.config import Config, obtener_config

_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclasses.dataclass(frozen=True)
class Arquitectura:
    """Ficha de una red: constructor, preprocesado, tamaños, artículo y pesos."""

    nombre: str
    titulo: str
    constructor: Callable[..., keras.Model]
    preprocesado: Callable
    modo_preprocesado: str
    tam_defecto: int
    tam_minimo: int
    articulo: str
    anio: int
    parametros: int
    punto_descongelar: str
    archivo_pesos: str
    url_pesos: str
    hash_pesos: str | None


def _arq(nombre, titulo, modulo, constructor, modo, tam, minimo, articulo, anio, params, punto, archivo, subdir, md5):
    return Arquitectura(
        nombre,
        titulo,
        constructor,
        modulo.preprocess_input,
        modo,
        tam,
        minimo,
        articulo,
        anio,
        params,
        punto,
        archivo,
        f"{_APPS}{subdir}/{archivo}",
        md5,
    )


_ap = keras.applications
REGISTRO: dict[str, Arquitectura] = {
    a.nombre: a
    for a in (
        _arq(
            "vgg16", "VGG16", _ap.vgg16, _ap.VGG16, "caffe", 224, 32,
            "Simonyan y Zisserman, «Very Deep Convolutional Networks for Large-Scale Image Recognition»",
            2014, 14_714_688, "block5", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "vgg16",
            "6d6bbae143d832006294945121d1f1fc",
        ),
        _arq(
            "vgg19", "VGG19", _ap.vgg19, _ap.VGG19, "caffe", 224, 32,
            "Simonyan y Zisserman, «Very Deep Convolutional Networks for Large-Scale Image Recognition»",
            2014, 20_024_384, "block5", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "vgg19",
            "253f8cb515780f3b799900260a226db6",
        ),
        _arq(
            "resnet50", "ResNet50", _ap.resnet50, _ap.ResNet50, "caffe", 224, 32,
            "He, Zhang, Ren y Sun, «Deep Residual Learning for Image Recognition»",
            2015, 23_587_712, "conv5", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "resnet",
            "4d473c1dd8becc155b73f8504c6f6626",
        ),
        _arq(
            "inception_v3", "InceptionV3", _ap.inception_v3, _ap.InceptionV3, "tf", 299, 75,
            "Szegedy et al., «Rethinking the Inception Architecture for Computer Vision»",
            2015, 21_802_784, "mixed9", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "inception_v3", "bcbd6486424b2319ff4ef7d526e38f63",
        ),
        _arq(
            "xception", "Xception", _ap.xception, _ap.Xception, "tf", 299, 71,
            "Chollet, «Xception: Deep Learning with Depthwise Separable Convolutions»",
            2016, 20_861_480, "block14", "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "xception",
            "b0042744bf5b25fce3cb969f33bebb97",
        ),
        Arquitectura(
            "squeezenet", "SqueezeNet v1.1", squeezenet.SqueezeNet, squeezenet.preprocess_input, "caffe",
            squeezenet.TAM_DEFECTO, squeezenet.TAM_MINIMO,
            "Iandola et al., «SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size»",
            2016, 722_496, "fire9", squeezenet.ARCHIVO_PESOS, squeezenet.URL_PESOS, squeezenet.MD5_PESOS,
        ),
        _arq(
            "mobilenet_v2", "MobileNetV2", _ap.mobilenet_v2, _ap.MobileNetV2, "tf", 224, 32,
            "Sandler et al., «MobileNetV2: Inverted Residuals and Linear Bottlenecks»",
            2018, 2_257_984, "block_16", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
            "mobilenet_v2", None,
        ),
    )
}  # fmt: skip
NOMBRES = tuple(REGISTRO)


class PesosNoDisponibles(RuntimeError):
    """No hay pesos locales ni red fuera del modo rápido; el mensaje explica el arreglo."""


def obtener(nombre: str) -> Arquitectura:
    """Devuelve la ficha de una red o un error que lista los nombres válidos."""
    clave = nombre.strip().lower().replace("-", "_")
    if clave not in REGISTRO:
        raise ValueError(
            f"Arquitectura desconocida: {nombre!r}. Las válidas son: {', '.join(NOMBRES)}. "
            "Revisa la celda `parameters` o la opción --arquitectura."
        )
    return REGISTRO[clave]


def comprobar_tam(arq: Arquitectura, tam: int) -> None:
    """Error claro si la imagen es menor que el tamaño mínimo de la red."""
    if tam < arq.tam_minimo:
        raise ValueError(
            f"{arq.titulo} necesita imágenes de al menos {arq.tam_minimo}x{arq.tam_minimo} px y se "
            f"pidió {tam}x{tam}. Sube TAM_IMAGEN en la celda `parameters` (su tamaño nativo es "
            f"{arq.tam_defecto} px)."
        )


def _construir(arq: Arquitectura, pesos, tam: int) -> keras.Model:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MobileNetV2 avisa de tamaños no estándar.
        return arq.constructor(include_top=False, weights=pesos, input_shape=(tam, tam, 3))


def _cargar_local(arq: Arquitectura, ruta: Path, tam: int) -> keras.Model:
    try:
        return _construir(arq, str(ruta), tam)
    except (OSError, ValueError, KeyError) as exc:
        raise PesosNoDisponibles(
            f"El archivo de pesos {ruta} no se puede cargar en {arq.titulo} ({str(exc)[:160]}). "
            "Puede estar corrupto, incompleto o ser de otra red. Arreglo: vuelve a copiarlo o "
            "ejecuta `python -m course_utils descargar --pesos` en una máquina con internet."
        ) from exc


def cargar_base(
    nombre: str, pesos: str | Path | None = "imagenet", tam: int | None = None, config: Config | None = None
) -> tuple[keras.Model, str]:
    """Base convolucional sin cabeza y el origen de sus pesos: local, imagenet o aleatorios.

    Orden: 1) el archivo con el nombre de Keras en CURSO_PESOS_DIR, cargado por ruta (`ruta_local`);
    2) la caché de Keras o la descarga; 3) en modo rápido, inicialización aleatoria con aviso.
    """
    arq = obtener(nombre)
    config = config or obtener_config()
    tam = tam or config.tam_para(arq.tam_defecto)
    comprobar_tam(arq, tam)
    if pesos in (None, "aleatorios"):
        return _construir(arq, None, tam), "aleatorios"
    if pesos != "imagenet":
        return _cargar_local(arq, Path(pesos), tam), "local"
    ruta = ruta_local(arq, tam, config.pesos_dir)
    if ruta is not None:
        if aviso := aviso_otro_tamano(arq, tam, ruta):
            print(aviso)
        return _cargar_local(arq, ruta, tam), "local"
    try:
        return _construir(arq, "imagenet", tam), "imagenet"
    except Exception as exc:  # noqa: BLE001 - get_file envuelve los fallos de red en Exception
        return _sin_pesos(arq, tam, config, exc), "aleatorios"


TAMANOS_MOBILENET_V2 = (96, 128, 160, 192, 224)  # los que tienen archivo propio en keras.applications


def archivo_keras(arq: Arquitectura, tam: int) -> str:
    """El archivo sin cabeza que descargaría Keras a ese tamaño: solo MobileNetV2 tiene uno por tamaño (cuaderno 03)."""
    if arq.nombre != "mobilenet_v2":
        return arq.archivo_pesos
    lado = tam if tam in TAMANOS_MOBILENET_V2 else 224  # como Keras: otro tamaño usa los pesos de 224
    return arq.archivo_pesos.replace("_224_", f"_{lado}_")


def ruta_local(arq: Arquitectura, tam: int, pesos_dir: Path | None) -> Path | None:
    """El archivo de CURSO_PESOS_DIR que se carga: el de ese tamaño o, si no está, el de la ficha (cuaderno 03)."""
    if pesos_dir is None:
        return None
    for archivo in dict.fromkeys((archivo_keras(arq, tam), arq.archivo_pesos)):
        if (Path(pesos_dir) / archivo).is_file():
            return Path(pesos_dir) / archivo
    return None


def aviso_otro_tamano(arq: Arquitectura, tam: int, ruta: Path) -> str | None:
    """Una línea si el archivo local no es el que Keras descargaría a ese tamaño; None si lo es (cuaderno 03)."""
    esperado = archivo_keras(arq, tam)
    if ruta.name == esperado:
        return None
    return (
        f"{arq.titulo} a {tam} px: se cargó {ruta.name} de CURSO_PESOS_DIR porque no está {esperado}, que es el "
        f"que descargaría Keras a ese tamaño. Los pesos de la base valen a cualquier tamaño, pero estos se "
        f"entrenaron a {arq.tam_defecto} px."
    )


def _sin_pesos(arq: Arquitectura, tam: int, config: Config, exc: Exception) -> keras.Model:
    causa = str(exc).splitlines()[0][:200]
    if not config.rapido:
        raise PesosNoDisponibles(
            f"No hay pesos ImageNet para {arq.titulo}: no están en CURSO_PESOS_DIR "
            f"({config.pesos_dir or 'sin definir'}) ni en la caché de Keras, y la descarga falló ({causa}).\n"
            "Para clases sin internet: en una máquina con red ejecuta "
            "`python -m course_utils descargar --pesos --destino CARPETA`, copia CARPETA al aula y "
            "define CURSO_PESOS_DIR=CARPETA. Los archivos llevan los nombres de Keras "
            f"(aquí: {arq.archivo_pesos})."
        ) from exc
    print(
        f'AVISO: {arq.titulo} usa pesos ALEATORIOS (pesos="aleatorios"): no hay archivo '
        f"{arq.archivo_pesos} en CURSO_PESOS_DIR y la descarga falló ({causa}). "
        "En modo rápido se sigue para que el cuaderno se ejecute, pero sus resultados no "
        "representan el aprendizaje por transferencia."
    )
    return _construir(arq, None, tam)


def indice_de_punto(base: keras.Model, punto: str) -> int:
    """Índice de la primera capa del bloque `punto` (p. ej. «block5» o «mixed9»).

    En InceptionV3 los bloques terminan en una concatenación llamada `mixedN`, así que el
    bloque `mixed9` empieza justo después de la capa `mixed8`.
    """
    nombres = [capa.name for capa in base.layers]
    if punto.startswith("mixed") and punto[5:].isdigit():
        return nombres.index(f"mixed{int(punto[5:]) - 1}") + 1
    for i, n in enumerate(nombres):
        if n.startswith(punto + "_"):
            return i
    raise ValueError(f"La base {base.name} no tiene ningún bloque «{punto}». Capas: {nombres[:5]}…")


def descongelar_desde(base: keras.Model, punto: str, congelar_bn: bool = True) -> int:
    """Descongela desde `punto` hasta el final; BatchNorm sigue congelada. Devuelve cuántas capas entrenan."""
    inicio = indice_de_punto(base, punto)
    base.trainable = True
    for i, capa in enumerate(base.layers):
        es_bn = isinstance(capa, keras.layers.BatchNormalization)
        capa.trainable = i >= inicio and not (congelar_bn and es_bn)
    return sum(1 for c in base.layers if c.trainable and c.weights)


def descargar_pesos(destino: Path, nombres=NOMBRES) -> list[Path]:
    """Descarga los pesos sin cabeza con sus nombres de Keras a una carpeta para CURSO_PESOS_DIR."""
    rutas = []
    for nombre in nombres:
        arq = obtener(nombre)
        print(f"Descargando {arq.titulo}: {arq.archivo_pesos}")
        ruta = keras.utils.get_file(
            arq.archivo_pesos, arq.url_pesos, cache_dir=str(destino), cache_subdir=".", file_hash=arq.hash_pesos
        )
        rutas.append(Path(ruta))
    return rutas


_PATRON_BLOQUE = re.compile(r"^(block_?\d+|conv\d+|fire\d+|mixed\d+)(?:_|$)")


def bloques_desde_arriba(base: keras.Model) -> list[str]:
    """Nombres de los bloques de la base, del más alto al más bajo: `[:n]` son los n que se descongelan."""
    bloques = []
    for capa in base.layers:
        coincidencia = _PATRON_BLOQUE.match(capa.name)
        if coincidencia and coincidencia.group(1) not in bloques:
            bloques.append(coincidencia.group(1))
    if not bloques:
        nombres = [capa.name for capa in base.layers[:5]]
        raise ValueError(
            f"La base {base.name} no tiene capas con nombres de bloque (blockN_, block_N_, convN_, fireN_ o "
            f"mixedN); sus primeras capas son {nombres}. Usa una base de `arquitecturas.cargar_base` o "
            "nombra las capas de tu base con el prefijo de su bloque."
        )
    return bloques[::-1]
