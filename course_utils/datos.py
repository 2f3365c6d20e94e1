"""Obtención de los datos (flores, demostración o propios) y canalizaciones `tf.data`."""

from __future__ import annotations

import dataclasses
import io
import os
import tarfile
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from course_utils import particion
from course_utils.config import RAIZ_PROYECTO, Config
from course_utils.inspeccion import (  # noqa: F401
    DatosInvalidos,
    Imagen,
    ImagenIlegible,
    Informe,
    inspeccionar,
    mostrar,
    motivo_ilegible,
)

URL_FLORES = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
CONTEOS_FLORES = {"daisy": 633, "dandelion": 898, "roses": 641, "sunflowers": 699, "tulips": 799}
MANIFIESTO_FLORES = RAIZ_PROYECTO / "data" / "flores_particion.csv"
SEMILLA_PARTICION = 0


class DatosNoDisponibles(RuntimeError):
    """No hay datos locales ni red: el mensaje explica cómo prepararlos."""


@dataclasses.dataclass
class Conjunto:
    """Datos listos para entrenar: clases, particiones y de dónde salieron."""

    raiz: Path
    clases: list[str]
    origen: str
    particiones: dict[str, list[Imagen]]
    informe: Informe | None = None

    def rutas_y_etiquetas(self, nombre: str) -> tuple[list[Path], np.ndarray]:
        """Devuelve las rutas y las etiquetas enteras de una partición."""
        imgs = self.particiones[nombre]
        indice = {c: i for i, c in enumerate(self.clases)}
        return [i.ruta for i in imgs], np.array([indice[i.clase] for i in imgs], dtype=np.int32)

    def conteos(self) -> dict[str, dict[str, int]]:
        """Cuenta imágenes por partición y clase."""
        return {n: dict(Counter(i.clase for i in imgs)) for n, imgs in self.particiones.items()}

    def resumen(self) -> str:
        """Tabla de texto con las imágenes por clase en cada partición."""
        conteos = self.conteos()
        cab = f"{'clase':<14}" + "".join(f"{n:>15}" for n in conteos)
        filas = [f"{c:<14}" + "".join(f"{conteos[n].get(c, 0):>15}" for n in conteos) for c in self.clases]
        total = f"{'total':<14}" + "".join(f"{sum(conteos[n].values()):>15}" for n in conteos)
        avisos = [f"AVISO: {a}" for a in self.informe.avisos] if self.informe else []
        if self.informe and self.informe.fugas_entre_particiones:
            avisos.append(
                f"AVISO: {len(self.informe.fugas_entre_particiones)} foto(s) repetidas entre tus particiones "
                "(fugas): la exactitud de validación o prueba saldrá optimista. Detalle: `python -m course_utils "
                f"inspeccionar {mostrar(self.raiz)}`."
            )
        return "\n".join([f"Datos: {self.origen} ({mostrar(self.raiz)})", cab, *filas, total, *avisos])

    def datasets(self, tam: int, lote: int, preprocesado=None, aumento=None, semilla: int = 0):
        """Crea los `tf.data` de entrenamiento, validación y prueba."""
        salida = []
        for nombre in particion.PARTICIONES:
            rutas, etiquetas = self.rutas_y_etiquetas(nombre)
            es_entrenamiento = nombre == "entrenamiento"
            salida.append(
                crear_dataset(
                    rutas,
                    etiquetas,
                    tam,
                    lote,
                    preprocesado=preprocesado,
                    aumento=aumento if es_entrenamiento else None,
                    barajar=es_entrenamiento,
                    semilla=semilla,
                )
            )
        return tuple(salida)


# --- Flores: localizar, descargar y verificar ---------------------------------------------


def _candidatas_flores(config: Config) -> list[Path]:
    candidatas = [config.datos_dir / "flower_photos", RAIZ_PROYECTO / "data" / "flower_photos"]
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    candidatas.append(keras_home / "datasets" / "flower_photos")
    return list(dict.fromkeys(candidatas))


def verificar_flores(ruta: Path) -> None:
    """Compara la carpeta de flores con el manifiesto oficial de clases, nombres y conteos."""
    esperados = {a for a, _, _ in particion.leer_manifiesto(MANIFIESTO_FLORES)}
    presentes = {
        p.relative_to(ruta).as_posix() for clase in CONTEOS_FLORES for p in (ruta / clase).glob("*") if p.is_file()
    }
    faltan, sobran = sorted(esperados - presentes), sorted(presentes - esperados)
    if not faltan and not sobran:
        return
    conteos = Counter(p.split("/")[0] for p in presentes)
    detalle = ", ".join(f"{c}: {conteos.get(c, 0)} de {n}" for c, n in CONTEOS_FLORES.items())
    ejemplos = "; ".join(faltan[:3] + sobran[:3])
    raise DatosInvalidos(
        f"La copia de tf_flowers en {ruta} no supera la verificación de integridad: faltan "
        f"{len(faltan)} archivos y sobran {len(sobran)} (por ejemplo: {ejemplos}). Conteos: {detalle}. "
        "Arreglo: mueve o renombra esa carpeta (el curso no borra nada) y ejecuta "
        "`python -m course_utils descargar --datos`, o apunta CURSO_DATOS_DIR a una copia completa."
    )


def descargar_flores(destino_dir: Path) -> Path:
    """Descarga el `flower_photos.tgz` oficial con `keras.utils.get_file`, lo extrae y lo verifica."""
    import keras

    destino_dir = Path(destino_dir)
    destino_dir.mkdir(parents=True, exist_ok=True)
    final = destino_dir / "flower_photos"
    try:
        tgz = keras.utils.get_file("flower_photos.tgz", URL_FLORES, cache_dir=str(destino_dir), cache_subdir=".")
    except Exception as exc:  # noqa: BLE001 - get_file envuelve los errores de red en Exception
        raise DatosNoDisponibles(
            f"No se pudo descargar tf_flowers desde {URL_FLORES} (detalle: "
            f"{str(exc).splitlines()[0].split(' -- ')[-1][:160]}). "
            "¿Hay conexión a internet? Sin red: copia una carpeta `flower_photos/` (por ejemplo desde una "
            "memoria USB) y define CURSO_DATOS_DIR apuntando a la carpeta que la contiene."
        ) from exc
    with tempfile.TemporaryDirectory(dir=destino_dir) as tmp:
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        verificar_flores(Path(tmp) / "flower_photos")
        os.replace(Path(tmp) / "flower_photos", final)
    return final


def localizar_flores(config: Config, descargar: bool = True) -> Path:
    """Busca tf_flowers en CURSO_DATOS_DIR, en `data/` y en la caché; si no, la descarga."""
    for candidata in _candidatas_flores(config):
        if (candidata / "daisy").is_dir():
            verificar_flores(candidata)
            return candidata
    if not descargar:
        raise DatosNoDisponibles("tf_flowers no está en ninguna carpeta local.")
    return descargar_flores(_carpeta_escribible(config.datos_dir))


def _carpeta_escribible(carpeta: Path) -> Path:
    try:
        carpeta.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=carpeta):
            return carpeta
    except OSError:
        return RAIZ_PROYECTO / "data"


def _imagenes_manifiesto(raiz: Path) -> dict[str, list[Imagen]]:
    resultado = {n: [] for n in particion.PARTICIONES}
    for archivo, clase, nombre in particion.leer_manifiesto(MANIFIESTO_FLORES):
        if nombre in resultado:
            resultado[nombre].append(Imagen(raiz / archivo, clase, nombre, archivo))
    return resultado


def cargar_flores(config: Config) -> Conjunto:
    """Carga tf_flowers con la partición del manifiesto y el tamaño del modo; en rápido, cae a la demo."""
    try:
        raiz = localizar_flores(config)
    except DatosNoDisponibles as exc:
        if not config.rapido:
            raise DatosNoDisponibles(
                f"{exc}\nEn el modo «{config.modo}» no hay alternativa: descarga los datos una vez con "
                "`python -m course_utils descargar --datos` o apunta CURSO_DATOS_DIR a una copia local."
            ) from exc
        return cargar_demo(config, motivo=str(exc))
    completas = _imagenes_manifiesto(raiz)
    return Conjunto(raiz, sorted(CONTEOS_FLORES), "flores", _reducir(completas, config))


def _reducir(particiones: dict[str, list[Imagen]], config: Config) -> dict[str, list[Imagen]]:
    limites = {
        "entrenamiento": config.imagenes_por_clase,
        "validacion": config.imagenes_val_por_clase,
        "prueba": config.imagenes_prueba_por_clase,
    }
    return {n: particion.reducir(imgs, limites[n], SEMILLA_PARTICION) for n, imgs in particiones.items()}


def cargar_demo(config: Config, motivo: str = "") -> Conjunto:
    """Genera (si hace falta) y carga el conjunto sintético de frutas, con un aviso visible."""
    from course_utils import demo

    carpeta = _carpeta_escribible(config.datos_dir) / "demo_frutas"
    demo.generar_demo(carpeta)
    print(
        "AVISO: no hay fotos reales de flores disponibles"
        + (f" ({motivo.splitlines()[0]})" if motivo else "")
        + '.\nSe usa el conjunto SINTÉTICO de frutas generado por el curso (datos="demo"). '
        "Solo sirve para que el curso se ejecute en cualquier máquina: las cifras de las lecciones "
        "salen de fotos reales."
    )
    conjunto = cargar_carpeta(carpeta, config)
    conjunto.origen = "demo"
    return conjunto


def cargar_carpeta(raiz: str | Path, config: Config, minimo_por_clase: int | None = None) -> Conjunto:
    """Inspecciona y parte una carpeta propia en cualquiera de las dos estructuras."""
    kwargs = {} if minimo_por_clase is None else {"minimo_por_clase": minimo_por_clase}
    informe = inspeccionar(raiz, **kwargs)
    if not informe.utilizable:
        raise DatosInvalidos(informe.texto())
    partes = particion.particionar(informe.validas, semilla=SEMILLA_PARTICION)
    return Conjunto(Path(raiz), informe.clases, "propios", _reducir(partes, config), informe)


def cargar_datos(config: Config, carpeta: str | Path | None = None) -> Conjunto:
    """Punto de entrada de los cuadernos: flores por defecto o una carpeta propia."""
    return cargar_carpeta(carpeta, config) if carpeta else cargar_flores(config)


def generar_manifiesto_flores(raiz: Path, destino: Path = MANIFIESTO_FLORES) -> Informe:
    """Regenera `data/flores_particion.csv` a partir de una copia de tf_flowers (mantenimiento)."""
    informe = inspeccionar(raiz)
    partes = particion.particionar(informe.validas, semilla=SEMILLA_PARTICION)
    ambiguas = [p for grupo in informe.duplicados_entre_clases for p in grupo]
    particion.guardar_manifiesto(partes, Path(raiz), destino, excluidas=ambiguas)
    return informe


# --- Lectura de imágenes y canalizaciones tf.data -------------------------------------------


def cargar_imagen(fuente, tam: int | None = None) -> np.ndarray:
    """Lee una imagen como RGB uint8 (gris, CMYK, paleta, RGBA y 16 bits incluidos), de `tam`×`tam` si se pide.

    `fuente` es una ruta, los bytes de un archivo (una subida) o una matriz en memoria (alto, ancho[, 3|4]).
    Es el único lector de imágenes del curso: la canalización, la predicción y los widgets pasan por aquí.
    Un archivo que no se puede leer (dañado, truncado, vacío, una bomba de descompresión) lanza
    `ImagenIlegible`, un `ValueError` con el motivo en español; los errores del sistema (no existe, sin
    permiso) salen tal cual.
    """
    if isinstance(fuente, np.ndarray):
        return a_rgb(_desde_matriz(fuente), tam)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(fuente) if isinstance(fuente, bytes | bytearray) else fuente) as img:
                return a_rgb(ImageOps.exif_transpose(img), tam)
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # no existe, sin permiso…: un error del sistema, no de la imagen
        ruta = Path(fuente) if isinstance(fuente, str | os.PathLike) else None
        nombre = mostrar(ruta.name) if ruta else "la imagen subida"
        raise ImagenIlegible(f"{nombre}: {motivo_ilegible(exc, ruta)}.") from exc


def _desde_matriz(imagen: np.ndarray) -> Image.Image:
    if imagen.ndim == 2:
        imagen = np.stack([imagen] * 3, axis=-1)
    if imagen.ndim != 3 or imagen.shape[-1] not in (3, 4):
        raise ValueError(f"Se esperaba una imagen (alto, ancho, 3) y llegó una matriz de forma {imagen.shape}.")
    return Image.fromarray(imagen.astype(np.uint8))


def a_rgb(img: Image.Image, tam: int | None) -> np.ndarray:
    """Una imagen PIL en cualquier modo como RGB uint8 (de `tam`×`tam` si se pide), transparencia sobre blanco."""
    if img.mode in ("I", "I;16", "I;16B", "F"):
        arr = np.asarray(img, dtype=np.float32)
        img = Image.fromarray((arr * (255.0 / max(float(arr.max()), 1.0))).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        fondo = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(fondo, img)
    img = img.convert("RGB")
    if tam is not None:
        img = img.resize((tam, tam), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def crear_dataset(rutas, etiquetas, tam: int, lote: int, preprocesado=None, aumento=None, barajar=False, semilla=0):
    """Canalización: decodificar, redimensionar, caché, barajar, lote, aumento, preprocesado y prefetch."""
    import tensorflow as tf

    def leer(ruta, etiqueta):
        img = tf.numpy_function(lambda r: cargar_imagen(r.decode(), tam), [ruta], tf.uint8)
        img.set_shape((tam, tam, 3))
        return img, etiqueta

    ds = tf.data.Dataset.from_tensor_slices(([str(r) for r in rutas], np.asarray(etiquetas, np.int32)))
    ds = ds.map(leer, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if barajar:
        ds = ds.shuffle(len(rutas), seed=semilla, reshuffle_each_iteration=True)
    ds = ds.batch(lote).map(lambda x, y: (tf.cast(x, tf.float32), y))
    if aumento is not None:
        ds = ds.map(lambda x, y: (aumento(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    if preprocesado is not None:
        ds = ds.map(lambda x, y: (preprocesado(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def bloque_aumento(volteo=True, rotacion=0.1, zoom=0.1, contraste=0.1, semilla=None):
    """Bloque reutilizable de aumento de datos: volteo, rotación, zoom y contraste."""
    import keras

    capas = [keras.layers.RandomFlip("horizontal", seed=semilla)] if volteo else []
    capas += [
        keras.layers.RandomRotation(rotacion, seed=semilla),
        keras.layers.RandomZoom(zoom, seed=semilla),
        keras.layers.RandomContrast(contraste, seed=semilla),
    ]
    return keras.Sequential(capas, name="aumento")


def creditos_fotos(raiz: Path) -> dict[str, str]:
    """Lee de `LICENSE.txt` el autor CC-BY 2.0 de cada foto de tf_flowers."""
    licencia = Path(raiz) / "LICENSE.txt"
    if not licencia.is_file():
        return {}
    creditos = {}
    for linea in licencia.read_text(encoding="utf-8").splitlines():
        archivo, separador, resto = linea.partition(" CC-BY by ")
        if separador:
            creditos[archivo.strip()] = resto.split(" - ")[0].strip()
    return creditos
