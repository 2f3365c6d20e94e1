"""Exportar un modelo entrenado a un solo `.keras` con sus metadatos y predecir con él.

Los metadatos (clases, red, tamaño de imagen, preprocesado y estrategia) viajan DENTRO del archivo
`.keras`, como una entrada JSON más del zip: un solo archivo es todo lo que hay que entregar.
Keras ignora esa entrada al cargar, así que el archivo sigue abriéndose con `keras.saving.load_model`.
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

from course_utils import arquitecturas, datos
from course_utils.estrategias import ARQ_DESDE_CERO, escalar
from course_utils.inspeccion import EXTENSIONES_IMAGEN, DatosInvalidos

ENTRADA_METADATOS = "curso_metadatos.json"
FORMATO = "curso-transfer-learning/1"
PREPROCESADO_DESDE_CERO = "escalar_0_1"
LOTE_PREDICCION = 32
# Metadatos de los modelos exportados o cargados en esta sesión, para `predecir(modelo, ...)`.
_METADATOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ModeloNoValido(ValueError):
    """El archivo no es un modelo exportado por el curso; el mensaje dice cómo arreglarlo."""


def nombre_preprocesado(arquitectura: str) -> str:
    """Nombre del preprocesado que espera una red: `escalar_0_1` o `<red>.preprocess_input`."""
    if arquitectura == ARQ_DESDE_CERO:
        return PREPROCESADO_DESDE_CERO
    return f"{arquitecturas.obtener(arquitectura).nombre}.preprocess_input"


def preprocesado_de(metadatos: dict):
    """La función de preprocesado que hay que aplicar según los metadatos de un modelo exportado."""
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
    """Guarda el modelo y sus metadatos en un solo `.keras`, de forma atómica."""
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
    metadatos = {
        "formato": FORMATO,
        "clases": clases,
        "arquitectura": arquitectura,
        "tam": int(tam),
        "preprocesado": nombre_preprocesado(arquitectura),
        "estrategia": estrategia,
        "fecha": dt.datetime.now().isoformat(timespec="seconds"),
        "keras": keras.__version__,
        "registro": _serializable(registro),
    }
    ruta.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporal = tempfile.mkstemp(prefix=".exportando_", suffix=".keras", dir=ruta.parent)
    os.close(descriptor)
    try:
        modelo.save(temporal)
        with zipfile.ZipFile(temporal, "a") as zf:
            zf.writestr(ENTRADA_METADATOS, json.dumps(metadatos, ensure_ascii=False, indent=1))
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
    faltan = [k for k in ("clases", "arquitectura", "tam", "preprocesado", "estrategia") if k not in metadatos]
    if faltan:
        raise ModeloNoValido(f"Los metadatos de {ruta} están incompletos (faltan {faltan}). Vuelve a exportarlo.")
    return metadatos


def cargar_exportado(ruta: str | Path) -> tuple[keras.Model, dict]:
    """Carga un `.keras` exportado por el curso y devuelve (modelo, metadatos)."""
    metadatos = leer_metadatos(ruta)
    try:
        modelo = keras.saving.load_model(ruta, compile=False)
    except Exception as exc:  # noqa: BLE001 - Keras lanza errores muy variados con archivos dañados
        raise ModeloNoValido(
            f"Keras no puede cargar el modelo de {ruta} ({str(exc).splitlines()[0][:160]}). "
            "Puede estar dañado o ser de otra versión de Keras; vuelve a exportarlo."
        ) from exc
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
    x = preprocesado_de(metadatos)(np.array(imagenes, dtype=np.float32))
    return np.asarray(modelo.predict(x, batch_size=LOTE_PREDICCION, verbose=0))


def predecir_imagen(modelo, metadatos: dict, imagen_uint8: np.ndarray, nombre: str | None = None) -> dict:
    """Predice una imagen RGB en memoria con el preprocesado de los metadatos."""
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
            lineas.append(f"{nombre(r):<{ancho}}  {r['clase']:<{ancho_clase}}  {r['probabilidad']:>12.3f}")
    errores = sum("error" in r for r in resultados)
    lineas.append(f"{len(resultados) - errores} imagen(es) predichas, {errores} archivo(s) con error.")
    return "\n".join(lineas)
