"""Entradas hostiles para la capa de datos: estructuras de carpetas, imágenes y nombres que rompían algo.

Cada prueba crea sus propias imágenes diminutas y comprueba que la carpeta del usuario no cambia.
"""

import hashlib
import os
import struct
import sys
import unicodedata
import zlib

import keras
import numpy as np
import pytest
from conftest import carpeta_clases, crear_imagen, huellas

from course_utils import config as cfg
from course_utils import datos, entrenamiento, particion
from course_utils.inspeccion import DatosInvalidos, ImagenIlegible, inspeccionar

NO_UTF8 = pytest.mark.skipif(
    os.name != "posix" or sys.getfilesystemencoding().lower() != "utf-8",
    reason="los nombres en bytes que no son UTF-8 solo existen así en sistemas POSIX con UTF-8",
)


def png_enorme(ruta, lado=14000):
    """Un PNG de 1 bit y lado×lado píxeles (196 Mpx con 14000) que ocupa unos 24 KB en disco."""
    fila = b"\x00" * (1 + (lado + 7) // 8)  # byte de filtro + la fila empaquetada a 1 bit por píxel

    def trozo(tipo, contenido):
        crc = zlib.crc32(tipo + contenido) & 0xFFFFFFFF
        return struct.pack(">I", len(contenido)) + tipo + contenido + struct.pack(">I", crc)

    cabecera = struct.pack(">IIBBBBB", lado, lado, 1, 0, 0, 0, 0)
    ruta.parent.mkdir(parents=True, exist_ok=True)
    ruta.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + trozo(b"IHDR", cabecera)
        + trozo(b"IDAT", zlib.compress(fila * lado, 9))
        + trozo(b"IEND", b"")
    )
    return ruta


def _particionada(raiz, partes: dict[str, dict[str, int]]):
    """`raiz/<parte>/<clase>/*.png` con imágenes DISTINTAS en cada parte (sin fugas accidentales)."""
    for k, (parte, clases) in enumerate(sorted(partes.items())):
        for i, (clase, n) in enumerate(sorted(clases.items())):
            for j in range(n):
                crear_imagen(raiz / parte / clase / f"{parte}_{j}.png", semilla=100_000 * (k + 1) + 1000 * i + j)
    return raiz


# --- Estructuras de carpetas ---------------------------------------------------------------------------


def test_solo_train_separa_validacion_y_prueba_y_lo_dice(tmp_path):
    raiz = _particionada(tmp_path / "d", {"train": {"a": 20, "b": 20}})
    antes = huellas(raiz)
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("completo"))
    conteos = conjunto.conteos()
    assert conteos["entrenamiento"] == {"a": 14, "b": 14}
    assert conteos["validacion"] == {"a": 3, "b": 3} and conteos["prueba"] == {"a": 3, "b": 3}
    assert "Solo hay `train/`" in conjunto.informe.texto()
    assert "AVISO: Solo hay `train/`" in conjunto.resumen()
    assert huellas(raiz) == antes


def test_train_y_test_saca_la_validacion_de_train(tmp_path):
    raiz = _particionada(tmp_path / "d", {"train": {"a": 20, "b": 20}, "test": {"a": 4, "b": 4}})
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("completo"))
    conteos = conjunto.conteos()
    assert conteos["prueba"] == {"a": 4, "b": 4}  # test/ entera, sin tocar
    assert conteos["validacion"] == {"a": 3, "b": 3}  # el 15 % de train/
    assert conteos["entrenamiento"] == {"a": 17, "b": 17}
    assert {i.ruta.parent.parent.name for i in conjunto.particiones["validacion"]} == {"train"}
    assert "no validación" in conjunto.informe.texto()


def test_solo_train_entrena_sin_keyerror(entorno_limpio):
    """Antes la validación salía vacía y `entrenar_y_evaluar` fallaba con KeyError: 'accuracy'."""
    raiz = _particionada(entorno_limpio / "d", {"train": {"a": 12, "b": 12}})
    config = cfg.obtener_config("rapido", epocas=1)
    conjunto = datos.cargar_carpeta(raiz, config)
    entrada = keras.Input((16, 16, 3))
    x = keras.layers.GlobalAveragePooling2D()(entrada)
    modelo = entrenamiento.compilar(keras.Model(entrada, keras.layers.Dense(2, activation="softmax")(x)))
    resultado = entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, arquitectura="diminuta", estrategia="extraccion", tam=16, registrar=False
    )
    assert 0 <= resultado.registro["val_accuracy"] <= 1 and resultado.registro["imagenes_prueba"] > 0


def test_val_y_validation_a_la_vez_es_un_error_que_nombra_ambas(tmp_path):
    raiz = _particionada(tmp_path / "d", {"train": {"a": 10, "b": 10}, "val": {"a": 2, "b": 2}})
    _particionada(raiz, {"validation": {"a": 2, "b": 2}})
    with pytest.raises(DatosInvalidos, match=r"`val/` y `validation/`"):
        inspeccionar(raiz)


def test_train_y_validation_con_una_imagen_por_clase_pide_dos(tmp_path):
    raiz = _particionada(tmp_path / "d", {"train": {"a": 10, "b": 10}, "validation": {"a": 1, "b": 2}})
    informe = inspeccionar(raiz)
    assert any("«a» en «validacion» tiene solo 1" in e and "al menos 2" in e for e in informe.errores)


def test_fuga_entre_particiones_se_informa_como_fuga(tmp_path):
    raiz = _particionada(tmp_path / "d", {"train": {"a": 10, "b": 10}, "test": {"a": 3, "b": 3}})
    copia = raiz / "test" / "a" / "copia.png"
    copia.write_bytes((raiz / "train" / "a" / "train_0.png").read_bytes())
    informe = inspeccionar(raiz)
    assert [sorted(p.name for p in g) for g in informe.fugas_entre_particiones] == [["copia.png", "train_0.png"]]
    assert not informe.duplicados_misma_clase  # antes: «siempre en la misma partición», falso aquí
    texto = informe.texto()
    assert "FUGAS" in texto and "train/a/train_0.png = test/a/copia.png" in texto
    assert "siempre en la misma partición" not in texto
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("completo"))
    assert "fugas" in conjunto.resumen()


def test_duplicado_en_la_misma_particion_sigue_siendo_duplicado(tmp_path):
    raiz = _particionada(tmp_path / "d", {"train": {"a": 10, "b": 10}})
    (raiz / "train" / "a" / "copia.png").write_bytes((raiz / "train" / "a" / "train_0.png").read_bytes())
    informe = inspeccionar(raiz)
    assert len(informe.duplicados_misma_clase) == 1 and not informe.fugas_entre_particiones


def test_carpeta_anidada_pide_apuntar_a_la_interior_y_no_borrar(tmp_path):
    raiz = tmp_path / "carpeta"
    carpeta_clases(raiz / "flores", {"margaritas": 10, "rosas": 10})
    antes = huellas(raiz)
    informe = inspeccionar(raiz)
    assert not informe.utilizable
    texto = " ".join(informe.errores)
    assert "Apunta a la carpeta interior" in texto and str(raiz / "flores") in texto
    assert "margaritas" in texto
    assert "elimina" not in texto.lower()
    assert len(informe.errores) == 1  # sin el «hay 1 clase» que despista
    assert huellas(raiz) == antes


def test_clase_vacia_no_invita_a_borrar(tmp_path):
    raiz = carpeta_clases(tmp_path / "d", {"a": 10, "b": 10})
    (raiz / "vacia").mkdir()
    errores = " ".join(inspeccionar(raiz).errores)
    assert "«vacia»" in errores and "elimina" not in errores.lower()


def test_ruta_de_archivo_dice_que_es_un_archivo(tmp_path):
    archivo = crear_imagen(tmp_path / "foto.png")
    with pytest.raises(DatosInvalidos, match="es un archivo, no una carpeta") as info:
        inspeccionar(archivo)
    assert "No existe" not in str(info.value)


# --- Lectura de imágenes -------------------------------------------------------------------------------


def test_bomba_de_descompresion_se_salta_archivo_a_archivo(tmp_path):
    raiz = carpeta_clases(tmp_path / "d", {"a": 10, "b": 10})
    bomba = png_enorme(raiz / "a" / "bomba.png")
    assert bomba.stat().st_size < 100_000
    antes = huellas(raiz)
    informe = inspeccionar(raiz)
    assert informe.utilizable and informe.por_clase() == {"a": 10, "b": 10}
    motivo = dict((p.name, m) for p, m in informe.corruptas)["bomba.png"]
    assert "bomba de descompresión" in motivo and "196 Mpx" in motivo
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("rapido"))
    assert bomba not in {i.ruta for imgs in conjunto.particiones.values() for i in imgs}
    assert huellas(raiz) == antes


def test_lector_comun_da_un_error_del_curso_con_la_bomba(tmp_path):
    """`datos.cargar_imagen` (el de predecir y los widgets) no deja escapar DecompressionBombError."""
    bomba = png_enorme(tmp_path / "bomba.png")
    with pytest.raises(ImagenIlegible, match="bomba de descompresión") as info:
        datos.cargar_imagen(bomba, 32)
    assert isinstance(info.value, ValueError)  # lo que exportacion.predecir captura archivo a archivo
    with pytest.raises(ImagenIlegible, match="la imagen subida"):
        datos.cargar_imagen(bomba.read_bytes(), 32)


def test_predecir_una_carpeta_con_una_bomba_no_la_aborta(tmp_path):
    from course_utils import exportacion
    from course_utils.estrategias import ARQ_DESDE_CERO

    entrada = keras.Input((8, 8, 3))
    salida = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(entrada))
    ruta = exportacion.exportar(
        keras.Model(entrada, salida), tmp_path / "m.keras", clases=["a", "b"], arquitectura=ARQ_DESDE_CERO,
        tam=8, estrategia="desde_cero",
    )  # fmt: skip
    carpeta = tmp_path / "fotos"
    crear_imagen(carpeta / "buena.png")
    png_enorme(carpeta / "bomba.png")
    resultados = {r["archivo"].split("/")[-1]: r for r in exportacion.predecir(ruta, carpeta)}
    assert "clase" in resultados["buena.png"]
    assert "bomba de descompresión" in resultados["bomba.png"]["error"]


@pytest.mark.parametrize(
    ("nombre", "contenido", "esperado"),
    [
        ("vacio.jpg", b"", "archivo vacío"),
        ("texto.png", b"esto es texto, no una imagen", "no es una imagen"),
        ("cortado.png", None, "truncada"),
    ],
)
def test_razones_en_espanol_para_archivos_rotos(tmp_path, nombre, contenido, esperado):
    raiz = carpeta_clases(tmp_path / "d", {"a": 10, "b": 10})
    if contenido is None:
        buena = (raiz / "b" / "img_0.png").read_bytes()
        contenido = buena[: len(buena) // 2]
    (raiz / "a" / nombre).write_bytes(contenido)
    motivo = dict((p.name, m) for p, m in inspeccionar(raiz).corruptas)[nombre]
    assert esperado in motivo
    assert "cannot identify" not in motivo and "image file is truncated" not in motivo
    with pytest.raises(ImagenIlegible, match=esperado):
        datos.cargar_imagen(raiz / "a" / nombre, 16)


def test_archivo_que_no_existe_sigue_siendo_un_error_del_sistema(tmp_path):
    with pytest.raises(FileNotFoundError):
        datos.cargar_imagen(tmp_path / "no_esta.png", 16)


# --- Nombres: bytes que no son UTF-8 y NFC frente a NFD -------------------------------------------------


@NO_UTF8
def test_nombre_que_no_es_utf8_se_informa_y_no_rompe_el_entrenamiento(tmp_path):
    raiz = carpeta_clases(tmp_path / "d", {"a": 12, "b": 12})
    crear_imagen(raiz / "a" / "relleno.png", semilla=4242)
    os.rename(os.fsencode(raiz / "a" / "relleno.png"), os.fsencode(raiz / "a") + b"/foto_\xff\xfe.png")
    antes = huellas(raiz)
    informe = inspeccionar(raiz)
    assert [p.name for p in informe.nombres_no_utf8] == [os.fsdecode(b"foto_\xff\xfe.png")]
    texto = informe.texto()
    assert "a/foto_\\xff\\xfe.png" in texto and "convmv" in texto
    texto.encode("utf-8")  # el informe se puede imprimir (antes: UnicodeEncodeError)
    # Antes: UnicodeEncodeError en particion.clave_orden al reducir el subconjunto del modo rápido.
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("rapido"))
    usadas = [i.ruta.name for imgs in conjunto.particiones.values() for i in imgs]
    assert len(usadas) == 24 and all(n.isascii() for n in usadas)
    assert huellas(raiz) == antes


@NO_UTF8
def test_carpeta_de_clase_que_no_es_utf8_se_informa(tmp_path):
    raiz = carpeta_clases(tmp_path / "d", {"a": 10, "b": 10})
    os.rename(os.fsencode(raiz / "b"), os.fsencode(raiz) + b"/clase_\xe9")
    carpeta_clases(raiz, {"c": 10})
    informe = inspeccionar(raiz)
    assert informe.clases == ["a", "c"] and len(informe.nombres_no_utf8) == 1


def test_clave_orden_no_falla_con_bytes_sustituidos():
    assert particion.clave_orden(os.fsdecode(b"foto_\xff.png")) != particion.clave_orden("foto_.png")


def _carpeta_con_tildes(raiz, forma: str):
    for i, clase in enumerate(("niño", "señora")):
        for j in range(30):
            nombre = unicodedata.normalize(forma, f"año_ñu_{j}.png")
            crear_imagen(raiz / unicodedata.normalize(forma, clase) / nombre, semilla=1000 * i + j)
    return raiz


def test_nombres_nfd_de_macos_dan_el_mismo_subconjunto_y_las_mismas_clases(tmp_path):
    nfc = _carpeta_con_tildes(tmp_path / "nfc", "NFC")
    nfd = _carpeta_con_tildes(tmp_path / "nfd", "NFD")
    assert sorted(os.listdir(nfd)) != sorted(os.listdir(nfc))  # de verdad son bytes distintos en disco
    config = cfg.obtener_config("rapido")

    def resumen(raiz):
        conjunto = datos.cargar_carpeta(raiz, config)
        elegidas = {
            n: sorted((i.clase, unicodedata.normalize("NFC", i.ruta.name)) for i in imgs)
            for n, imgs in conjunto.particiones.items()
        }
        return conjunto.clases, elegidas

    assert resumen(nfc) == resumen(nfd)
    assert resumen(nfc)[0] == ["niño", "señora"]


def test_la_particion_de_flores_no_cambia_con_la_normalizacion():
    """Los nombres ASCII dan la misma clave con y sin NFC: los subconjuntos de flores siguen iguales."""
    esperada = hashlib.sha1(b"0:100080576_f52e8ee070_n.jpg").hexdigest()
    assert particion.clave_orden("100080576_f52e8ee070_n.jpg", 0) == esperada


def test_imagen_en_memoria_sigue_funcionando():
    assert datos.cargar_imagen(np.zeros((10, 12, 3), np.uint8), 4).shape == (4, 4, 3)
