"""Exportar un modelo entrenado a un solo `.keras` autosuficiente, con sus metadatos, y predecir con él.

El modelo exportado recibe píxeles RGB crudos de 0 a 255 (float32) y lleva DENTRO su preprocesado, hecho
solo con capas que trae Keras (nada de `Lambda` ni de objetos del curso): `Rescaling` para el modo «tf» y
para la CNN desde cero, una `Dense(3)` congelada sobre los canales (RGB→BGR y resta de la media de
ImageNet) para «caffe» y `Rescaling` + `Normalization` para «torch». Así `keras.models.load_model(ruta)`
predice bien en cualquier sitio, sin instalar el curso.

Los metadatos (clases, red, tamaño de imagen, preprocesado y estrategia) viajan dentro del mismo archivo,
como una entrada JSON más del zip: un solo archivo es todo lo que hay que entregar. Keras ignora esa
entrada al cargar.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import weakref
import zipfile
from pathlib import Path

import keras
import numpy as np

from course_utils import arquitecturas, datos, formato
from course_utils.estrategias import ARQ_DESDE_CERO, escalar
from course_utils.inspeccion import EXTENSIONES_IMAGEN, DatosInvalidos

ENTRADA_METADATOS = "curso_metadatos.json"
# /2: el preprocesado va dentro del modelo y la entrada son píxeles RGB de 0 a 255 (en /1 iba fuera).
FORMATO = "curso-transfer-learning/2"
PREPROCESADO_DESDE_CERO = "escalar_0_1"
ENTRADA = "píxeles RGB de 0 a 255 (float32), sin preprocesar: el preprocesado va dentro del modelo"
# Nombre de la última capa de preprocesado del exportado: así se distingue del modelo que entrenó el curso.
CAPA_PREPROCESADO = "preprocesado"
MEDIA_IMAGENET_BGR = (103.939, 116.779, 123.68)  # la que resta keras.applications en el modo «caffe»
MEDIA_IMAGENET_RGB = (0.485, 0.456, 0.406)  # modo «torch», sobre píxeles de 0 a 1
DESVIACION_IMAGENET_RGB = (0.229, 0.224, 0.225)
DESCRIPCION_MODOS = {
    PREPROCESADO_DESDE_CERO: "Rescaling(1/255): píxeles de 0-255 a 0-1",
    "tf": "Rescaling(1/127.5, offset=-1): píxeles de 0-255 a [-1, 1]",
    "caffe": "Dense(3) congelada sobre los canales: RGB→BGR y resta de la media BGR de ImageNet "
    f"{list(MEDIA_IMAGENET_BGR)}, sin escalar",
    "torch": "Rescaling(1/255) y Normalization con la media y la desviación RGB de ImageNet",
}
LOTE_PREDICCION = 32
# Metadatos de los modelos exportados o cargados en esta sesión, para `predecir(modelo, ...)`.
_METADATOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ModeloNoValido(ValueError):
    """El archivo no es un modelo exportado por el curso; el mensaje dice cómo arreglarlo."""


def nombre_preprocesado(arquitectura: str) -> str:
    """Nombre del preprocesado con el que se entrena una red: `escalar_0_1` o `<red>.preprocess_input`.

    Es informativo en los metadatos: el exportado ya lo lleva dentro, hecho con capas de Keras.
    """
    if arquitectura == ARQ_DESDE_CERO:
        return PREPROCESADO_DESDE_CERO
    return f"{arquitecturas.obtener(arquitectura).nombre}.preprocess_input"


def preprocesado_de(metadatos: dict):
    """La función de preprocesado con la que se entrenó el modelo, según sus metadatos.

    Es la que espera el modelo que entrenó el curso; el exportado ya la lleva dentro: NO se aplica antes de
    pasarle las imágenes (`predecir` lo sabe mirando si el modelo tiene la capa `CAPA_PREPROCESADO`).
    """
    nombre = metadatos.get("preprocesado")
    if nombre == PREPROCESADO_DESDE_CERO:
        return escalar
    arquitectura = str(nombre or "").removesuffix(".preprocess_input")
    if arquitectura not in arquitecturas.REGISTRO:
        raise ModeloNoValido(
            f"Preprocesado desconocido en los metadatos: {nombre!r}. Los válidos son "
            f"{PREPROCESADO_DESDE_CERO!r} o «<red>.preprocess_input» con una red de: "
            f"{', '.join(arquitecturas.NOMBRES)}. Vuelve a exportar el modelo con exportacion.exportar."
        )
    return arquitecturas.obtener(arquitectura).preprocesado


def modo_preprocesado(arquitectura: str) -> str:
    """Modo del preprocesado de una red: `escalar_0_1` (la CNN desde cero), «tf», «caffe» o «torch»."""
    if arquitectura == ARQ_DESDE_CERO:
        return PREPROCESADO_DESDE_CERO
    return arquitecturas.obtener(arquitectura).modo_preprocesado


def capas_preprocesado(arquitectura: str) -> list[keras.layers.Layer]:
    """Capas de Keras (sin objetos propios) que hacen, dentro del modelo, el preprocesado de la red.

    Reciben píxeles RGB de 0 a 255 y dan lo mismo que el `preprocess_input` de la red (o que `escalar`).
    """
    return capas_de_modo(modo_preprocesado(arquitectura), arquitectura)


def capas_de_modo(modo: str, arquitectura: str = "") -> list[keras.layers.Layer]:
    """Las capas de un modo de preprocesado (`escalar_0_1`, «tf», «caffe» o «torch»).

    La última se llama `CAPA_PREPROCESADO` y ninguna tiene nada que entrenar (la `Dense` va congelada).
    """
    if modo == PREPROCESADO_DESDE_CERO:
        return [keras.layers.Rescaling(1 / 255, name=CAPA_PREPROCESADO)]
    if modo == "tf":
        return [keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=CAPA_PREPROCESADO)]
    if modo == "torch":
        varianza = [d**2 for d in DESVIACION_IMAGENET_RGB]
        return [
            keras.layers.Rescaling(1 / 255, name=f"{CAPA_PREPROCESADO}_escala"),
            keras.layers.Normalization(mean=list(MEDIA_IMAGENET_RGB), variance=varianza, name=CAPA_PREPROCESADO),
        ]
    if modo == "caffe":
        # salida[j] = Σ_i entrada[i]·kernel[i, j] + sesgo[j]: la permutación lleva R→canal 2 y B→canal 0.
        capa = keras.layers.Dense(3, name=CAPA_PREPROCESADO, trainable=False)
        capa.build((None, 3))
        capa.set_weights([np.eye(3, dtype=np.float32)[::-1].copy(), -np.array(MEDIA_IMAGENET_BGR, dtype=np.float32)])
        return [capa]
    raise ValueError(
        f"Modo de preprocesado desconocido{' en la red ' + arquitectura if arquitectura else ''}: {modo!r}. Los "
        f"que el curso sabe meter dentro del modelo son {', '.join(DESCRIPCION_MODOS)}. Revisa la ficha de la red "
        "en course_utils/arquitecturas.py."
    )


def lleva_preprocesado(modelo: keras.Model) -> bool:
    """Si el modelo ya recibe píxeles crudos (lo exportó el curso) o espera la entrada preprocesada."""
    return any(capa.name == CAPA_PREPROCESADO for capa in modelo.layers)


def incluir_preprocesado(modelo: keras.Model, arquitectura: str) -> keras.Model:
    """Un modelo que recibe píxeles RGB de 0 a 255: las capas de preprocesado y, detrás, una copia de `modelo`.

    La copia (rehecha desde su configuración, con los mismos pesos) no está compilada: así el archivo no
    arrastra el optimizador de `modelo`, que Keras intentaría restaurar al cargarlo (`clone_model` sí copia
    la compilación). `modelo` no cambia. Si ya lleva el preprocesado, se devuelve tal cual.
    """
    if lleva_preprocesado(modelo):
        return modelo
    try:
        interno = type(modelo).from_config(modelo.get_config())
        interno.set_weights(modelo.get_weights())
    except (ValueError, TypeError, NotImplementedError):  # un modelo subclase sin configuración: va tal cual
        interno = modelo
    entrada = keras.Input(modelo.input_shape[1:], name="pixeles_rgb_0_255")
    x = entrada
    for capa in capas_preprocesado(arquitectura):
        x = capa(x)
    return keras.Model(entrada, interno(x), name=f"{modelo.name}_con_preprocesado")


def _umask() -> int:
    """La umask del proceso; solo se puede leer cambiándola, así que se restaura al momento."""
    actual = os.umask(0o022)
    os.umask(actual)
    return actual


def _serializable(registro: dict | None) -> dict:
    if not registro:
        return {}
    return json.loads(json.dumps(registro, default=str))


def exportar(
    modelo: keras.Model,
    ruta: str | Path,
    *,
    clases,
    arquitectura: str,
    tam: int,
    estrategia: str,
    registro: dict | None = None,
    sobrescribir: bool = False,
) -> Path:
    """Guarda el modelo, con su preprocesado dentro, y sus metadatos en un solo `.keras`, de forma atómica.

    `modelo` es el que entrenó el curso (recibe la entrada ya preprocesada); el archivo guarda
    `incluir_preprocesado(modelo, arquitectura)`, que recibe píxeles RGB de 0 a 255, sin compilar (es para
    predecir). Se escribe en un temporal de la misma carpeta, con los permisos que da la umask del usuario,
    y se renombra al final: nunca queda un archivo a medias.
    """
    ruta = Path(ruta)
    if ruta.suffix != ".keras":
        raise ValueError(
            f"El modelo exportado debe terminar en .keras y se pidió {ruta}. Cambia el nombre del archivo."
        )
    if ruta.exists() and not sobrescribir:
        raise FileExistsError(
            f"Ya existe {ruta} y el curso no sobrescribe nada sin permiso. Elige otro nombre o pasa "
            "sobrescribir=True (en la línea de órdenes, --sobrescribir)."
        )
    clases = [str(c) for c in clases]
    salidas = modelo.output_shape[-1]
    if salidas != len(clases):
        raise ValueError(f"El modelo tiene {salidas} salidas pero se pasaron {len(clases)} clases: {clases}.")
    modo = modo_preprocesado(arquitectura)
    exportado = incluir_preprocesado(modelo, arquitectura)
    metadatos = {
        "formato": FORMATO,
        "clases": clases,
        "arquitectura": arquitectura,
        "tam": int(tam),
        "entrada": ENTRADA,
        "preprocesado": nombre_preprocesado(arquitectura),
        "modo_preprocesado": modo,
        "preprocesado_incluido": DESCRIPCION_MODOS.get(modo, modo),
        "estrategia": estrategia,
        "fecha": dt.datetime.now().isoformat(timespec="seconds"),
        "keras": keras.__version__,
        "registro": _serializable(registro),
    }
    ruta.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporal = tempfile.mkstemp(prefix=".exportando_", suffix=".keras", dir=ruta.parent)
    os.close(descriptor)
    try:
        exportado.save(temporal)
        with zipfile.ZipFile(temporal, "a") as zf:
            zf.writestr(ENTRADA_METADATOS, json.dumps(metadatos, ensure_ascii=False, indent=1))
        os.chmod(temporal, 0o666 & ~_umask())  # mkstemp lo crea con 0600; un archivo normal sigue la umask
        os.replace(temporal, ruta)
    finally:
        Path(temporal).unlink(missing_ok=True)
    _METADATOS[modelo] = metadatos
    return ruta


def leer_metadatos(ruta: str | Path) -> dict:
    """Lee solo los metadatos de un `.keras` exportado, sin cargar el modelo."""
    ruta = Path(ruta)
    if not ruta.is_file():
        raise FileNotFoundError(
            f"No existe el modelo {ruta}. Comprueba la ruta o entrena y exporta uno con "
            "`python -m course_utils entrenar CARPETA --salida MODELO.keras`."
        )
    try:
        with zipfile.ZipFile(ruta) as zf:
            if ENTRADA_METADATOS not in zf.namelist():
                raise ModeloNoValido(
                    f"{ruta} no lo exportó el curso: le faltan los metadatos (clases, red, tamaño y "
                    "preprocesado), así que no se sabe cómo preparar las imágenes ni qué significa cada salida. "
                    "Vuelve a exportarlo con exportacion.exportar(...) o con `python -m course_utils entrenar`."
                )
            metadatos = json.loads(zf.read(ENTRADA_METADATOS).decode("utf-8"))
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModeloNoValido(
            f"{ruta} no es un archivo .keras válido o está dañado ({exc}). Vuelve a copiarlo o a exportarlo."
        ) from exc
    if metadatos.get("formato") != FORMATO:
        raise ModeloNoValido(
            f"{ruta} se exportó con otra versión del curso (formato {metadatos.get('formato')!r}; esta lee "
            f"{FORMATO!r}): en aquel formato el preprocesado iba fuera del modelo, y predecir con él daría "
            "resultados erróneos sin avisar. Vuelve a exportarlo con exportacion.exportar(...) o con "
            "`python -m course_utils entrenar`."
        )
    faltan = [k for k in ("clases", "arquitectura", "tam", "preprocesado", "estrategia") if k not in metadatos]
    if faltan:
        raise ModeloNoValido(f"Los metadatos de {ruta} están incompletos (faltan {faltan}). Vuelve a exportarlo.")
    return metadatos


def cargar_exportado(ruta: str | Path) -> tuple[keras.Model, dict]:
    """Carga un `.keras` exportado por el curso y devuelve (modelo, metadatos)."""
    metadatos = leer_metadatos(ruta)
    try:
        modelo = keras.saving.load_model(ruta, compile=False)
    except Exception as exc:  # Keras lanza errores muy variados con archivos dañados
        raise ModeloNoValido(
            f"Keras no puede cargar el modelo de {ruta} ({str(exc).splitlines()[0][:160]}). "
            "Puede estar dañado o ser de otra versión de Keras; vuelve a exportarlo."
        ) from exc
    if not lleva_preprocesado(modelo):
        raise ModeloNoValido(
            f"El modelo de {ruta} no lleva dentro su capa «{CAPA_PREPROCESADO}», aunque sus metadatos dicen que "
            "sí: no se sabe si espera píxeles crudos o ya preprocesados. Vuelve a exportarlo con "
            "exportacion.exportar(...)."
        )
    _METADATOS[modelo] = metadatos
    return modelo, metadatos


def _resolver(modelo_o_ruta, metadatos: dict | None) -> tuple[keras.Model, dict]:
    if isinstance(modelo_o_ruta, (str, Path)):
        return cargar_exportado(modelo_o_ruta)
    if isinstance(modelo_o_ruta, tuple):
        return modelo_o_ruta
    metadatos = metadatos or _METADATOS.get(modelo_o_ruta)
    if metadatos is None:
        raise ModeloNoValido(
            "Este modelo no tiene metadatos del curso. Pasa la ruta del .keras exportado, la pareja "
            "(modelo, metadatos) que devuelve cargar_exportado, o expórtalo antes con exportacion.exportar."
        )
    return modelo_o_ruta, metadatos


def _prediccion(archivo, probs: np.ndarray, clases: list[str]) -> dict:
    i = int(np.argmax(probs))
    return {
        "archivo": archivo,
        "clase": clases[i],
        "probabilidad": float(probs[i]),
        "probabilidades": {c: float(p) for c, p in zip(clases, probs, strict=True)},
    }


def _probabilidades(modelo, metadatos: dict, imagenes: np.ndarray) -> np.ndarray:
    """Un exportado recibe los píxeles tal cual; el modelo que entrenó el curso, preprocesados por fuera."""
    x = np.array(imagenes, dtype=np.float32)
    if not lleva_preprocesado(modelo):
        x = preprocesado_de(metadatos)(x)
    return np.asarray(modelo.predict(x, batch_size=LOTE_PREDICCION, verbose=0))


def predecir_imagen(modelo, metadatos: dict, imagen_uint8: np.ndarray, nombre: str | None = None) -> dict:
    """Predice una imagen RGB en memoria (el exportado lleva el preprocesado; el entrenado, el de los metadatos)."""
    imagen = datos.cargar_imagen(np.asarray(imagen_uint8), int(metadatos["tam"]))
    probs = _probabilidades(modelo, metadatos, imagen[None])[0]
    return _prediccion(nombre, probs, list(metadatos["clases"]))


def _archivos(ruta: Path) -> list[Path]:
    if not ruta.exists():
        raise FileNotFoundError(f"No existe {ruta}. Comprueba la ruta de la imagen o de la carpeta.")
    if ruta.is_file():
        return [ruta]
    archivos = sorted(
        p
        for p in ruta.rglob("*")
        if p.is_file() and not any(parte.startswith(".") for parte in p.relative_to(ruta).parts)
    )
    if not archivos:
        raise DatosInvalidos(
            f"La carpeta {ruta} está vacía: no hay ninguna imagen que predecir. Copia ahí tus imágenes."
        )
    return archivos


def _leer(ruta: Path, tam: int) -> np.ndarray | str:
    """La imagen como RGB uint8, o el motivo (en español) por el que no se puede leer."""
    if ruta.suffix.lower() not in EXTENSIONES_IMAGEN:
        return "no es una imagen admitida (se aceptan JPG, PNG, BMP y WEBP); se ignora"
    try:
        return datos.cargar_imagen(ruta, tam)
    except (OSError, ValueError, SyntaxError) as exc:
        detalle = str(exc).splitlines()[0].replace(str(ruta), ruta.name)[:100]
        return f"no se puede leer como imagen (¿dañada o incompleta?): {detalle}"


def predecir(modelo_o_ruta, ruta: str | Path, metadatos: dict | None = None) -> list[dict]:
    """Predice una imagen o todas las de una carpeta; los archivos ilegibles llevan `error`.

    `modelo_o_ruta`: la ruta del `.keras` exportado, la pareja (modelo, metadatos) o un modelo ya
    exportado o cargado en esta sesión. No modifica nada en la carpeta.
    """
    modelo, metadatos = _resolver(modelo_o_ruta, metadatos)
    tam, clases = int(metadatos["tam"]), list(metadatos["clases"])
    resultados, buenas = [], []
    for archivo in _archivos(Path(ruta)):
        imagen = _leer(archivo, tam)
        if isinstance(imagen, str):
            resultados.append({"archivo": str(archivo), "error": imagen})
        else:
            resultados.append(None)
            buenas.append((len(resultados) - 1, archivo, imagen))
    if buenas:
        probs = _probabilidades(modelo, metadatos, np.stack([img for _, _, img in buenas]))
        for (i, archivo, _), p in zip(buenas, probs, strict=True):
            resultados[i] = _prediccion(str(archivo), p, clases)
    return resultados


def tabla_predicciones(resultados: list[dict], raiz: str | Path | None = None) -> str:
    """Tabla de texto alineada: archivo, clase y probabilidad, o el error de cada archivo."""
    raiz = Path(raiz) if raiz is not None and Path(raiz).is_dir() else None

    def nombre(r):
        ruta = Path(r["archivo"] or "(imagen en memoria)")
        return str(ruta.relative_to(raiz)) if raiz and ruta.is_relative_to(raiz) else str(ruta)

    ancho = max([len("archivo")] + [len(nombre(r)) for r in resultados])
    ancho_clase = max([len("clase")] + [len(r["clase"]) for r in resultados if "clase" in r])
    lineas = [f"{'archivo':<{ancho}}  {'clase':<{ancho_clase}}  probabilidad"]
    for r in resultados:
        if "error" in r:
            lineas.append(f"{nombre(r):<{ancho}}  ERROR: {r['error']}")
        else:
            lineas.append(
                f"{nombre(r):<{ancho}}  {r['clase']:<{ancho_clase}}  {formato.decimal(r['probabilidad'], 3):>12}"
            )
    errores = sum("error" in r for r in resultados)
    lineas.append(f"{len(resultados) - errores} imagen(es) predichas, {errores} archivo(s) con error.")
    return "\n".join(lineas)
