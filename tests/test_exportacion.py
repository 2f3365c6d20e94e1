"""Exportar y predecir (cuaderno 08) y las órdenes `entrenar` y `predecir` de la línea de órdenes."""

import json
import zipfile

import keras
import numpy as np
import pytest
from conftest import crear_imagen, huellas

from course_utils import arquitecturas, demo, estrategias, exportacion
from course_utils.__main__ import main
from course_utils.inspeccion import DatosInvalidos

CLASES = ["limones", "manzanas", "naranjas", "platanos"]


@pytest.fixture
def frutas(tmp_path_factory):
    """Carpeta diminuta de imágenes generadas (4 clases × 12 imágenes de 48 px)."""
    return demo.generar_demo(tmp_path_factory.mktemp("imagenes") / "frutas", imagenes_por_clase=12, tam=48)


@pytest.fixture
def exportado(tmp_path):
    """Una CNN desde cero sin entrenar, exportada con sus metadatos."""
    modelo = estrategias.construir_desde_cero(len(CLASES), 32)
    ruta = exportacion.exportar(
        modelo, tmp_path / "modelo.keras", clases=CLASES, arquitectura="cnn_desde_cero", tam=32,
        estrategia="desde_cero", registro={"test_accuracy": 0.5},
    )  # fmt: skip
    return modelo, ruta


def test_ida_y_vuelta_conserva_metadatos_y_predicciones(exportado, frutas):
    modelo, ruta = exportado
    cargado, metadatos = exportacion.cargar_exportado(ruta)
    assert metadatos["clases"] == CLASES and metadatos["tam"] == 32
    assert metadatos["arquitectura"] == "cnn_desde_cero" and metadatos["estrategia"] == "desde_cero"
    assert metadatos["preprocesado"] == "escalar_0_1" and metadatos["registro"]["test_accuracy"] == 0.5
    assert metadatos["formato"] == exportacion.FORMATO and metadatos["modo_preprocesado"] == "escalar_0_1"
    assert isinstance(keras.saving.load_model(ruta), keras.Model), "Keras debe seguir cargando el archivo tal cual"
    assert exportacion.lleva_preprocesado(cargado) and not exportacion.lleva_preprocesado(modelo)
    assert not list(ruta.parent.glob(".exportando_*")), "no deben quedar temporales"
    imagen = np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8)
    original = exportacion.predecir_imagen(modelo, metadatos, imagen)  # el entrenado: preprocesado por fuera
    recargado = exportacion.predecir_imagen(cargado, metadatos, imagen)
    assert original["clase"] == recargado["clase"]
    assert np.allclose(list(original["probabilidades"].values()), list(recargado["probabilidades"].values()), atol=1e-5)
    assert sum(recargado["probabilidades"].values()) == pytest.approx(1.0, abs=1e-4)
    por_ruta = exportacion.predecir(ruta, frutas / "naranjas")
    por_modelo = exportacion.predecir(modelo, frutas / "naranjas")  # metadatos recordados al exportar
    # x·(1/255) dentro del modelo frente a x/255 fuera: como mucho un ulp de diferencia en la entrada.
    assert [list(r["probabilidades"]) for r in por_ruta] == [CLASES] * len(por_ruta)
    assert np.allclose(
        [list(r["probabilidades"].values()) for r in por_ruta],
        [list(r["probabilidades"].values()) for r in por_modelo],
        atol=1e-5,
    )


def test_preprocesado_segun_la_red():
    x = np.full((1, 8, 8, 3), 255.0, dtype=np.float32)
    assert exportacion.preprocesado_de({"preprocesado": "escalar_0_1"})(x).max() == pytest.approx(1.0)
    nombre = exportacion.nombre_preprocesado("mobilenet_v2")
    funcion = exportacion.preprocesado_de({"preprocesado": nombre})
    assert funcion is arquitecturas.obtener("mobilenet_v2").preprocesado
    assert float(funcion(x.copy()).max()) == pytest.approx(1.0)  # MobileNetV2 lleva los píxeles a [-1, 1]
    with pytest.raises(exportacion.ModeloNoValido, match="Preprocesado desconocido"):
        exportacion.preprocesado_de({"preprocesado": "rescale_1_255"})


def test_carpeta_con_archivos_rotos_se_informa_y_se_predice_el_resto(exportado, tmp_path):
    _, ruta = exportado
    carpeta = tmp_path / "mias"
    for i in range(3):
        crear_imagen(carpeta / f"foto_{i}.png", (40, 30), semilla=i)
    crear_imagen(carpeta / "sub" / "gris.jpg", (40, 40), modo="L")
    (carpeta / "rota.jpg").write_bytes(b"esto no es un jpeg")
    (carpeta / "notas.txt").write_text("hola", encoding="utf-8")
    antes = huellas(carpeta)
    resultados = exportacion.predecir(ruta, carpeta)
    assert huellas(carpeta) == antes, "predecir no debe modificar la carpeta del usuario"
    errores = {r["archivo"].split("/")[-1]: r["error"] for r in resultados if "error" in r}
    assert set(errores) == {"rota.jpg", "notas.txt"}
    assert "no se puede leer" in errores["rota.jpg"] and "no es una imagen" in errores["notas.txt"]
    buenas = [r for r in resultados if "error" not in r]
    assert len(buenas) == 4 and all(r["clase"] in CLASES and 0 <= r["probabilidad"] <= 1 for r in buenas)
    texto = exportacion.tabla_predicciones(resultados, carpeta)
    assert "ERROR" in texto and "4 imagen(es) predichas, 2 archivo(s) con error" in texto


def test_errores_en_espanol(exportado, tmp_path):
    modelo, ruta = exportado
    with pytest.raises(FileNotFoundError, match="No existe el modelo"):
        exportacion.cargar_exportado(tmp_path / "no_existe.keras")
    ajeno = tmp_path / "ajeno.keras"
    modelo.save(ajeno)  # un .keras normal, sin los metadatos del curso
    with pytest.raises(exportacion.ModeloNoValido, match="no lo exportó el curso"):
        exportacion.cargar_exportado(ajeno)
    metadatos = exportacion.leer_metadatos(ruta)
    viejo = tmp_path / "viejo.keras"  # como lo escribía la versión anterior: preprocesado fuera y formato /1
    modelo.save(viejo)
    with zipfile.ZipFile(viejo, "a") as zf:
        zf.writestr(exportacion.ENTRADA_METADATOS, json.dumps(dict(metadatos, formato="curso-transfer-learning/1")))
    with pytest.raises(exportacion.ModeloNoValido, match="otra versión del curso.*preprocesado iba fuera"):
        exportacion.cargar_exportado(viejo)
    with pytest.raises(exportacion.ModeloNoValido, match="otra versión del curso"):
        exportacion.predecir(viejo, tmp_path)
    sin_capa = tmp_path / "sin_capa.keras"  # metadatos nuevos, pero un modelo sin el preprocesado dentro
    modelo.save(sin_capa)
    with zipfile.ZipFile(sin_capa, "a") as zf:
        zf.writestr(exportacion.ENTRADA_METADATOS, json.dumps(metadatos))
    with pytest.raises(exportacion.ModeloNoValido, match="no lleva dentro su capa «preprocesado»"):
        exportacion.cargar_exportado(sin_capa)
    roto = tmp_path / "roto.keras"
    roto.write_bytes(b"no es un zip")
    with pytest.raises(exportacion.ModeloNoValido, match="dañado"):
        exportacion.cargar_exportado(roto)
    (tmp_path / "vacia").mkdir()
    with pytest.raises(DatosInvalidos, match="está vacía"):
        exportacion.predecir(ruta, tmp_path / "vacia")
    with pytest.raises(exportacion.ModeloNoValido, match="no tiene metadatos"):
        exportacion.predecir(estrategias.construir_desde_cero(2, 32), tmp_path / "vacia")


def test_no_sobrescribe_sin_permiso(exportado):
    modelo, ruta = exportado
    antes = ruta.read_bytes()
    with pytest.raises(FileExistsError, match="no sobrescribe"):
        exportacion.exportar(
            modelo, ruta, clases=CLASES, arquitectura="cnn_desde_cero", tam=32, estrategia="desde_cero"
        )
    assert ruta.read_bytes() == antes
    exportacion.exportar(
        modelo, ruta, clases=CLASES, arquitectura="cnn_desde_cero", tam=32, estrategia="desde_cero", sobrescribir=True
    )
    assert "curso_metadatos.json" in zipfile.ZipFile(ruta).namelist()
    with pytest.raises(ValueError, match="4 salidas"):
        exportacion.exportar(modelo, ruta.with_name("otro.keras"), clases=["a", "b"], arquitectura="cnn_desde_cero",
                             tam=32, estrategia="desde_cero")  # fmt: skip


def test_cli_entrenar_y_predecir_desde_cero(entorno_limpio, frutas, capsys):
    salida = entorno_limpio / "modelo.keras"
    antes = huellas(frutas)
    orden = ["entrenar", str(frutas), "--estrategia", "desde_cero", "--modo", "rapido", "--salida", str(salida)]
    assert main(orden + ["--epocas", "1"]) == 0
    texto = capsys.readouterr().out
    assert "Exactitud en validación: " in texto and "en prueba: " in texto and f"Modelo guardado en {salida}" in texto
    assert exportacion.leer_metadatos(salida)["clases"] == CLASES
    assert main(orden) == 2, "no debe sobrescribir sin --sobrescribir"
    assert "ya existe" in capsys.readouterr().err
    assert main(["predecir", str(salida), str(frutas)]) == 0
    texto = capsys.readouterr().out
    assert "manzanas/manzanas_0000.jpg" in texto and "48 imagen(es) predichas" in texto
    assert main(["predecir", str(salida), str(frutas / "limones" / "limones_0000.jpg")]) == 0
    assert huellas(frutas) == antes


def test_cli_extraccion_con_pesos_aleatorios(entorno_limpio, frutas, capsys, monkeypatch):
    original = arquitecturas.cargar_base
    monkeypatch.setattr(
        arquitecturas,
        "cargar_base",
        lambda nombre, pesos="imagenet", tam=None, config=None: original(nombre, None, tam, config),
    )
    salida = entorno_limpio / "mobilenet.keras"
    orden = ["entrenar", str(frutas), "--arquitectura", "mobilenet_v2", "--estrategia", "extraccion",
             "--modo", "rapido", "--salida", str(salida), "--epocas", "1", "--tam", "32"]  # fmt: skip
    assert main(orden) == 0
    texto = capsys.readouterr().out
    assert "en prueba: " in texto and "ALEATORIOS" in texto and "32 px" in texto
    metadatos = exportacion.leer_metadatos(salida)
    assert metadatos["preprocesado"] == "mobilenet_v2.preprocess_input" and metadatos["estrategia"] == "extraccion"


def test_cli_errores_salen_con_2(entorno_limpio, tmp_path, exportado, capsys):
    rota = tmp_path / "rota"
    crear_imagen(rota / "gatos" / "a.png")
    (rota / "perros").mkdir()
    salida = str(tmp_path / "m.keras")
    assert main(["entrenar", str(rota), "--estrategia", "desde_cero", "--modo", "rapido", "--salida", salida]) == 2
    err = capsys.readouterr().err
    assert "Informe de la carpeta" in err and "no tiene ninguna imagen válida" in err
    assert main(["entrenar", str(rota), "--arquitectura", "alexnet", "--modo", "rapido", "--salida", salida]) == 2
    err = capsys.readouterr().err
    assert "Arquitectura desconocida" in err and "mobilenet_v2" in err
    assert main(["predecir", str(tmp_path / "no.keras"), str(rota)]) == 2
    assert "No existe el modelo" in capsys.readouterr().err
    _, modelo = exportado
    (tmp_path / "solo_texto").mkdir()
    (tmp_path / "solo_texto" / "a.txt").write_text("x", encoding="utf-8")
    assert main(["predecir", str(modelo), str(tmp_path / "solo_texto")]) == 2


def test_cli_sin_pesos_fuera_de_rapido_sale_con_2(entorno_limpio, frutas, capsys, monkeypatch):
    def sin_pesos(nombre, pesos="imagenet", tam=None, config=None):
        raise arquitecturas.PesosNoDisponibles("No hay pesos ImageNet para VGG16: define CURSO_PESOS_DIR.")

    monkeypatch.setattr(arquitecturas, "cargar_base", sin_pesos)
    salida = entorno_limpio / "vgg.keras"
    orden = ["entrenar", str(frutas), "--arquitectura", "vgg16", "--estrategia", "fine_tuning", "--modo", "clase",
             "--salida", str(salida)]  # fmt: skip
    assert main(orden) == 2
    assert "No hay pesos ImageNet" in capsys.readouterr().err
    assert not salida.exists()


def test_cli_entrenar_usa_todas_las_imagenes_de_tu_carpeta(entorno_limpio, capsys):
    """El tope por clase de los modos es para las flores: con tu carpeta se usan todas (o las que pidas)."""
    carpeta = entorno_limpio / "propia"
    for clase in ("gatos", "perros"):
        for i in range(30):
            crear_imagen(carpeta / clase / f"{i}.png", tam=(36, 36), semilla=i + (100 if clase == "gatos" else 0))
    salida = entorno_limpio / "propio.keras"
    orden = ["entrenar", str(carpeta), "--estrategia", "desde_cero", "--modo", "rapido", "--epocas", "1",
             "--tam", "32", "--salida", str(salida)]  # fmt: skip
    assert main(orden) == 0
    registro = exportacion.leer_metadatos(salida)["registro"]
    assert registro["imagenes_por_clase"] is None and registro["imagenes_entrenamiento"] > 2 * 12
    assert main([*orden, "--sobrescribir", "--imagenes-por-clase", "5"]) == 0
    assert exportacion.leer_metadatos(salida)["registro"]["imagenes_entrenamiento"] == 10
