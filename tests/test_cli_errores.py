"""La línea de órdenes ante entradas hostiles: errores en español con código 2, sin traza, y Ctrl-C con 130.

Nada de red: las descargas fallan porque se sustituye `urlretrieve` (lo que usa `keras.utils.get_file`).
"""

import argparse
import os
import subprocess
import sys
import urllib.error

import pytest
from conftest import carpeta_clases, crear_imagen, huellas

from course_utils import config as cfg
from course_utils import registros, terminal
from course_utils.__main__ import construir_parser, explicar_error, main


def _error_limpio(capsys, codigo, esperado):
    """La salida de un error esperado: una línea «ERROR: …» con el texto esperado y ninguna traza."""
    salida = capsys.readouterr()
    assert codigo == 2
    assert "Traceback" not in salida.err + salida.out
    assert salida.err.startswith("ERROR: ") and esperado in salida.err, salida.err
    return salida.err


@pytest.fixture
def fotos(tmp_path):
    return carpeta_clases(tmp_path / "fotos", {"a": 10, "b": 10})


@pytest.fixture
def sin_entrenar(monkeypatch):
    """Falla si algo llega a entrenar: los errores de esta prueba deben salir antes."""
    from course_utils import estrategias, rejilla

    def no(*args, **kwargs):
        raise AssertionError("no debía llegar a entrenar")

    monkeypatch.setattr(estrategias, "entrenar_receta", no)
    monkeypatch.setattr(rejilla, "ejecutar_rejilla", no)


# --- Errores esperados: un párrafo en español, código 2 -----------------------------------------------


def test_ruta_de_archivo_en_inspeccionar(tmp_path, capsys):
    archivo = crear_imagen(tmp_path / "foto.png")
    _error_limpio(capsys, main(["inspeccionar", str(archivo)]), "es un archivo, no una carpeta")


def test_depurar_muestra_la_traza(tmp_path, capsys):
    archivo = crear_imagen(tmp_path / "foto.png")
    assert main(["--depurar", "inspeccionar", str(archivo)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "DatosInvalidos" in err and "ERROR: " in err
    assert main(["inspeccionar", str(archivo), "--depurar"]) == 2  # también después de la orden
    assert "Traceback" in capsys.readouterr().err


def test_un_fallo_del_programa_no_se_disfraza(monkeypatch, fotos):
    from course_utils import inspeccion

    def roto(*args, **kwargs):
        raise RuntimeError("fallo interno")

    monkeypatch.setattr(inspeccion, "inspeccionar", roto)
    with pytest.raises(RuntimeError, match="fallo interno"):
        main(["inspeccionar", str(fotos)])


def test_oserror_con_errno_en_espanol():
    texto = explicar_error(PermissionError(13, "Permission denied", "/datos/modelo.keras"))
    assert "/datos/modelo.keras" in texto and "no tienes permiso" in texto
    assert "Permission denied" not in texto
    assert "No hay conexión" in explicar_error(urllib.error.URLError("Name or service not known"))
    assert explicar_error(UnicodeEncodeError("utf-8", "x", 0, 1, "z")) is None  # eso es un fallo del programa


def test_val_y_validation_desde_entrenar(tmp_path, capsys, entorno_limpio, sin_entrenar):
    raiz = carpeta_clases(tmp_path / "d" / "train", {"a": 10, "b": 10}).parent
    carpeta_clases(raiz / "val", {"a": 2, "b": 2})
    carpeta_clases(raiz / "validation", {"a": 2, "b": 2})
    codigo = main(["entrenar", str(raiz), "--salida", str(tmp_path / "m.keras"), "--estrategia", "desde_cero"])
    _error_limpio(capsys, codigo, "`val/` y `validation/`")


def test_carpeta_no_utilizable_en_entrenar_da_el_informe_y_una_linea_de_error(
    tmp_path, capsys, entorno_limpio, sin_entrenar
):
    raiz = tmp_path / "carpeta"
    carpeta_clases(raiz / "flores", {"a": 10, "b": 10})
    codigo = main(["entrenar", str(raiz), "--salida", str(tmp_path / "m.keras"), "--estrategia", "desde_cero"])
    err = capsys.readouterr().err
    assert codigo == 2 and "Traceback" not in err
    assert "Apunta a la carpeta interior" in err
    assert err.strip().splitlines()[-1].startswith("ERROR: la carpeta")


# --- Modos: CURSO_MODO con erratas y «rápido» ----------------------------------------------------------


def test_errata_en_curso_modo_es_un_error_claro(entorno_limpio, monkeypatch):
    monkeypatch.setenv("CURSO_MODO", "rapdio")
    with pytest.raises(cfg.ModoDesconocido) as info:
        cfg.obtener_config()
    mensaje = str(info.value)
    assert "CURSO_MODO" in mensaje and "'rapdio'" in mensaje and "rapido, clase, completo" in mensaje
    assert isinstance(info.value, ValueError)  # quien ya capturaba ValueError lo sigue capturando


@pytest.mark.parametrize("orden", ["descargar", "entrenar", "experimentos", "ejecutar"])
def test_errata_en_curso_modo_desde_la_cli(orden, entorno_limpio, fotos, monkeypatch, capsys, sin_entrenar):
    monkeypatch.setenv("CURSO_MODO", "rapdio")
    argv = {
        "descargar": ["descargar", "--datos", "--destino", str(entorno_limpio / "destino")],
        "entrenar": ["entrenar", str(fotos), "--salida", str(entorno_limpio / "m.keras")],
        "experimentos": ["experimentos"],
        "ejecutar": ["ejecutar", "--filtro", "no_hay_ninguno"],
    }[orden]
    err = _error_limpio(capsys, main(argv), "CURSO_MODO")
    assert "'rapdio'" in err and "rapido, clase, completo" in err


def test_modo_con_tilde_en_la_cli(entorno_limpio):
    args = construir_parser().parse_args(["entrenar", "x", "--salida", "m.keras", "--modo", "rápido"])
    assert args.modo == "rapido"
    assert construir_parser().parse_args(["experimentos", "--modo", "Clase"]).modo == "clase"


# --- argparse en español -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "esperado"),
    [
        (["entrenar", "carpeta"], "argumento obligatorio: --salida"),
        ([], "argumento obligatorio: ORDEN"),
        (["entrenar", "c", "--salida", "m.keras", "--modo", "turbo"], "Modo desconocido: 'turbo'"),
        (["entrenar", "c", "--salida", "m.keras", "--estrategia", "magia"], "opción no válida: 'magia'"),
        (["entrenar", "c", "--salida", "m.keras", "--epocas", "dos"], "debe ser un número entero"),
        (["inspeccionar", "c", "--modo", "rapido"], "argumentos no reconocidos: --modo rapido"),
        (["volar"], "opción no válida: 'volar'"),
        (["entrenar", "c", "--salida"], "argumento --salida: falta su valor"),
    ],
)
def test_errores_de_argparse_en_espanol(argv, esperado, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith("uso: python -m course_utils") and esperado in err, err
    for ingles in ("usage:", "the following", "invalid choice", "unrecognized", "expected one"):
        assert ingles not in err


def test_ayuda_en_espanol(capsys):
    with pytest.raises(SystemExit) as info:
        main(["entrenar", "-h"])
    salida = capsys.readouterr().out
    assert info.value.code == 0
    assert salida.startswith("uso: ") and "opciones:" in salida and "muestra esta ayuda y sale" in salida
    assert "--depurar" in salida and "rápido" in salida
    assert "options:" not in salida and "show this help" not in salida


def test_la_traduccion_no_se_queda_en_argparse():
    construir_parser().format_help()
    assert argparse._("usage: ") == "usage: "  # otros programas (pytest incluido) siguen en su idioma
    assert argparse.ArgumentParser(prog="otro").format_usage().startswith("usage: ")


# --- Antes de entrenar: --salida y la carpeta de resultados se pueden escribir -------------------------


def test_salida_no_escribible_falla_antes_de_entrenar(entorno_limpio, fotos, capsys, sin_entrenar):
    antes = huellas(fotos)
    bloqueo = crear_imagen(entorno_limpio / "soy_un_archivo.png")
    salida = bloqueo / "sub" / "modelo.keras"
    codigo = main(["entrenar", str(fotos), "--salida", str(salida), "--estrategia", "desde_cero"])
    err = _error_limpio(capsys, codigo, "--salida")
    assert "es un archivo, no una carpeta" in err
    assert not registros.ruta_registros(entorno_limpio / "resultados").exists()
    assert huellas(fotos) == antes


def test_resultados_no_escribibles_fallan_antes_de_entrenar(entorno_limpio, fotos, capsys, monkeypatch, sin_entrenar):
    bloqueo = crear_imagen(entorno_limpio / "soy_un_archivo.png")
    monkeypatch.setenv("CURSO_RESULTADOS_DIR", str(bloqueo / "resultados"))
    salida = entorno_limpio / "modelos" / "m.keras"
    codigo = main(["entrenar", str(fotos), "--salida", str(salida), "--estrategia", "desde_cero"])
    _error_limpio(capsys, codigo, "CURSO_RESULTADOS_DIR")
    assert not salida.parent.exists()  # la comprobación no deja carpetas creadas


def test_resultados_no_escribibles_en_experimentos(entorno_limpio, capsys, monkeypatch, sin_entrenar):
    bloqueo = crear_imagen(entorno_limpio / "soy_un_archivo.png")
    monkeypatch.setenv("CURSO_RESULTADOS_DIR", str(bloqueo))
    _error_limpio(capsys, main(["experimentos", "--modo", "rapido"]), "CURSO_RESULTADOS_DIR")


def test_carpeta_sin_permiso_de_escritura(tmp_path, monkeypatch):
    """Como root los permisos no cuentan, así que el fallo del sistema se simula en la escritura de prueba."""

    def sin_permiso(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(registros.tempfile, "TemporaryFile", sin_permiso)
    with pytest.raises(registros.CarpetaNoEscribible, match="no tienes permiso de escritura.*Elige otra"):
        registros.comprobar_escribible(tmp_path / "nueva", "carpeta de prueba", "Elige otra.")
    assert not (tmp_path / "nueva").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root escribe aunque no haya permiso")
def test_carpeta_de_solo_lectura_de_verdad(tmp_path):
    carpeta = tmp_path / "solo_lectura"
    carpeta.mkdir()
    carpeta.chmod(0o500)
    try:
        with pytest.raises(registros.CarpetaNoEscribible):
            registros.comprobar_escribible(carpeta, "carpeta de prueba", "Elige otra.")
    finally:
        carpeta.chmod(0o700)


# --- Descargas sin red ---------------------------------------------------------------------------------


@pytest.fixture
def sin_red(monkeypatch):
    """`urlretrieve` falla como sin DNS; `keras.utils.get_file` lo envuelve en su Exception genérica."""
    from keras.src.utils import file_utils

    def falla(*args, **kwargs):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(file_utils, "urlretrieve", falla)


def test_descargar_datos_sin_red_da_solo_el_mensaje(entorno_limpio, sin_red, capsys):
    codigo = main(["descargar", "--datos", "--destino", str(entorno_limpio / "destino")])
    err = _error_limpio(capsys, codigo, "No se pudo descargar tf_flowers")
    assert "CURSO_DATOS_DIR" in err and len(err.strip().splitlines()) == 1


def test_descargar_pesos_sin_red_en_espanol(entorno_limpio, sin_red, capsys):
    destino = entorno_limpio / "pesos"
    codigo = main(["descargar", "--pesos", "--destino", str(destino), "--arquitecturas", "vgg16"])
    err = _error_limpio(capsys, codigo, "No se pudieron descargar los pesos de VGG16")
    assert "CURSO_PESOS_DIR" in err and "Temporary failure in name resolution" in err
    assert "URL fetch failure" not in err


def test_pesos_que_no_superan_la_integridad(entorno_limpio, monkeypatch, capsys):
    from keras.src.utils import file_utils

    def descarga_alterada(origen, destino, *args, **kwargs):
        with open(destino, "wb") as f:
            f.write(b"esto no son los pesos de VGG16")

    monkeypatch.setattr(file_utils, "urlretrieve", descarga_alterada)
    destino = entorno_limpio / "pesos"
    codigo = main(["descargar", "--pesos", "--destino", str(destino), "--arquitecturas", "vgg16"])
    _error_limpio(capsys, codigo, "no superan la comprobación de integridad")


# --- Ctrl-C --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("orden", ["experimentos", "entrenar"])
def test_ctrl_c_sale_con_130_y_sin_traza(orden, entorno_limpio, fotos, monkeypatch, capsys):
    from course_utils import estrategias, rejilla

    def interrumpe(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rejilla, "ejecutar_rejilla", interrumpe)
    monkeypatch.setattr(estrategias, "entrenar_receta", interrumpe)
    argv = {
        "experimentos": ["experimentos", "--modo", "rapido"],
        "entrenar": ["entrenar", str(fotos), "--salida", str(entorno_limpio / "m.keras"), "--estrategia", "desde_cero"],
    }[orden]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "interrumpido; vuelve a lanzar la orden para reanudar" in err and "Traceback" not in err
    if orden == "experimentos":
        assert "rejilla retoma" in err


# --- Sin el ruido de TensorFlow ------------------------------------------------------------------------


def test_filtro_de_ruido_solo_quita_lo_conocido():
    ruido = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1.2 1 port.cc:153] oneDNN custom operations are on. You may see slightly different",
        "I0000 00:00:1.2 1 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.",
        "E0000 00:00:1.2 1 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
        "I0000 00:00:1.2 1 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the flags.",
    ]
    reales = [
        "E0000 00:00:1.2 1 cuda_dnn.cc:522] Loaded runtime CuDNN library: 8.1.0 but source was compiled with 8.6",
        "ImportError: libcudart.so.12: cannot open shared object file",
        "UserWarning: algo que el curso debe ver",
    ]
    assert all(terminal.RUIDO_TENSORFLOW.search(linea) for linea in ruido)
    assert not any(terminal.RUIDO_TENSORFLOW.search(linea) for linea in reales)


def test_stderr_sin_ruido_calla_el_ruido_de_un_proceso_hijo_y_deja_lo_demas(capfd):
    """Como el kernel de un cuaderno en `ejecutar`: un hijo que escribe en su descriptor 2 heredado."""
    hijo = (
        "import sys; sys.stderr.write('I0000 00:00:1.2 1 cudart_stub.cc:31] Could not find cuda drivers on your "
        "machine, GPU will not be used.\\nUserWarning: algo que el curso debe ver\\n')"
    )
    with terminal.stderr_sin_ruido():
        subprocess.run([sys.executable, "-c", hijo], check=True)
        assert capfd.readouterr().err == "", "dentro, nada llega todavía a la terminal"
    err = capfd.readouterr().err
    assert "UserWarning: algo que el curso debe ver" in err
    assert "cudart_stub" not in err


def test_una_orden_real_no_imprime_el_ruido_de_tensorflow(tmp_path):
    """En un proceso nuevo: `predecir` importa TensorFlow y falla con un modelo que no existe."""
    entorno = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proceso = subprocess.run(
        [sys.executable, "-m", "course_utils", "predecir", str(tmp_path / "no.keras"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=entorno,
        timeout=300,
    )
    assert proceso.returncode == 2
    assert proceso.stdout == ""
    assert proceso.stderr.splitlines() == [proceso.stderr.strip()], proceso.stderr  # una sola línea
    assert proceso.stderr.startswith("ERROR: No existe el modelo")
