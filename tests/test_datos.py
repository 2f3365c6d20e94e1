"""Pruebas de la capa de datos con imágenes diminutas generadas: cada caso de entrada defectuosa."""

import csv
import io
import tarfile

import numpy as np
import pytest
from conftest import carpeta_clases, crear_imagen, huellas
from PIL import Image

from course_utils import config as cfg
from course_utils import datos, particion
from course_utils.inspeccion import DatosInvalidos, inspeccionar


@pytest.fixture
def carpeta_rota(tmp_path):
    """La carpeta del criterio de aceptación: JPEG corrupto, GIF, PNG gris, duplicado entre clases y una clase con una imagen."""
    raiz = carpeta_clases(tmp_path / "fotos", {"gatos": 12, "perros": 12})
    (raiz / "gatos" / "roto.jpg").write_bytes(b"\xff\xd8\xff\xe0 esto no es un JPEG")
    Image.new("P", (40, 40)).save(raiz / "perros" / "marcador.gif")
    crear_imagen(raiz / "perros" / "gris.png", modo="L", semilla=77)
    (raiz / "perros" / "copia_de_gato.png").write_bytes((raiz / "gatos" / "img_0.png").read_bytes())
    crear_imagen(raiz / "pajaros" / "unico.png", semilla=99)
    return raiz


def test_informe_de_la_carpeta_rota_nombra_cada_archivo(carpeta_rota):
    antes = huellas(carpeta_rota)
    informe = inspeccionar(carpeta_rota)
    texto = informe.texto()
    for nombre in ("gatos/roto.jpg", "perros/marcador.gif", "perros/gris.png", "perros/copia_de_gato.png"):
        assert nombre in texto
    assert "gatos/img_0.png" in texto
    assert not informe.utilizable
    assert any("«pajaros»" in e and "1 imagen" in e for e in informe.errores)
    assert huellas(carpeta_rota) == antes


def test_cargar_carpeta_rota_falla_con_el_informe(carpeta_rota):
    antes = huellas(carpeta_rota)
    with pytest.raises(DatosInvalidos, match="pajaros"):
        datos.cargar_carpeta(carpeta_rota, cfg.obtener_config("rapido"))
    assert huellas(carpeta_rota) == antes


def test_jpeg_corrupto_se_excluye(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    (raiz / "a" / "truncado.jpg").write_bytes(b"\xff\xd8\xff")
    informe = inspeccionar(raiz)
    assert [p.name for p, _ in informe.corruptas] == ["truncado.jpg"]
    assert informe.utilizable and informe.por_clase() == {"a": 10, "b": 10}


@pytest.mark.parametrize("nombre", ["notas.txt", ".DS_Store", "animacion.gif", "Thumbs.db"])
def test_no_imagenes_se_ignoran_y_se_listan(tmp_path, nombre):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    if nombre.endswith(".gif"):
        Image.new("P", (40, 40)).save(raiz / "a" / nombre)
    else:
        (raiz / "a" / nombre).write_text("x")
    informe = inspeccionar(raiz)
    listados = [p.name for p, _ in informe.no_imagenes]
    assert nombre in listados
    assert informe.utilizable


@pytest.mark.parametrize("modo", ["L", "CMYK", "P", "RGBA", "I;16"])
def test_modos_de_color_se_convierten_y_no_se_descartan(tmp_path, modo):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    formato = "JPEG" if modo == "CMYK" else "PNG"
    ruta = crear_imagen(raiz / "a" / f"rara.{formato.lower()}", modo=modo, formato=formato)
    informe = inspeccionar(raiz)
    assert (ruta, modo) in informe.convertidas
    assert ruta in [i.ruta for i in informe.validas]
    img = datos.cargar_imagen(ruta, 24)
    assert img.shape == (24, 24, 3) and img.dtype == np.uint8 and img.max() > 0


def test_imagen_demasiado_pequena(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    crear_imagen(raiz / "b" / "mini.png", tam=(10, 8))
    informe = inspeccionar(raiz)
    assert [(p.name, t) for p, t in informe.pequenas] == [("mini.png", (10, 8))]
    assert "mini.png" in informe.texto() and "10x8" in informe.texto()


def test_duplicados_dentro_de_una_clase_se_conservan_juntos(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 20, "b": 20})
    (raiz / "a" / "copia.png").write_bytes((raiz / "a" / "img_3.png").read_bytes())
    informe = inspeccionar(raiz)
    assert len(informe.duplicados_misma_clase) == 1
    partes = particion.particionar(informe.validas)
    donde = {i.ruta.name: n for n, imgs in partes.items() for i in imgs if i.clase == "a"}
    assert donde["copia.png"] == donde["img_3.png"]


def test_duplicado_entre_clases_excluye_ambas_copias(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    (raiz / "b" / "ambigua.png").write_bytes((raiz / "a" / "img_0.png").read_bytes())
    informe = inspeccionar(raiz)
    assert len(informe.duplicados_entre_clases) == 1
    nombres = {(i.clase, i.ruta.name) for i in informe.validas}
    assert ("a", "img_0.png") not in nombres and ("b", "ambigua.png") not in nombres


def test_clase_vacia_es_un_error(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    (raiz / "vacia").mkdir()
    informe = inspeccionar(raiz)
    assert any("«vacia»" in e and "ninguna imagen" in e for e in informe.errores)


def test_clase_con_pocas_imagenes_es_un_error(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 3})
    informe = inspeccionar(raiz)
    assert any("«b»" in e and "3 imagen" in e for e in informe.errores)


def test_carpeta_anidada_se_lista(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    crear_imagen(raiz / "a" / "extra" / "perdida.png")
    informe = inspeccionar(raiz)
    assert [p.name for p in informe.carpetas_anidadas] == ["extra"]
    assert informe.por_clase()["a"] == 10


def test_imagenes_sueltas_en_la_raiz(tmp_path):
    raiz = tmp_path / "sin_clases"
    for i in range(5):
        crear_imagen(raiz / f"foto_{i}.png", semilla=i)
    informe = inspeccionar(raiz)
    assert not informe.utilizable
    assert any("al menos 2" in e for e in informe.errores)
    assert "foto_0.png" in informe.texto()


def test_carpeta_inexistente(tmp_path):
    with pytest.raises(DatosInvalidos, match="No existe la carpeta"):
        inspeccionar(tmp_path / "no_esta")


def test_estructura_de_los_articulos_train_validation(tmp_path):
    raiz = tmp_path / "dataset"
    carpeta_clases(raiz / "train", {"manzanas": 12, "naranjas": 12})
    carpeta_clases(raiz / "validation", {"manzanas": 6, "naranjas": 6})
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("completo"))
    conteos = conjunto.conteos()
    assert conteos["entrenamiento"] == {"manzanas": 12, "naranjas": 12}
    assert conteos["validacion"]["manzanas"] + conteos["prueba"]["manzanas"] == 6
    assert conteos["prueba"]["naranjas"] > 0


def test_particion_dada_respeta_test_y_val(tmp_path):
    raiz = tmp_path / "dataset"
    carpeta_clases(raiz / "train", {"x": 10, "y": 10})
    carpeta_clases(raiz / "val", {"x": 3, "y": 3})
    carpeta_clases(raiz / "test", {"x": 4, "y": 4})
    conteos = datos.cargar_carpeta(raiz, cfg.obtener_config("completo")).conteos()
    assert conteos["validacion"] == {"x": 3, "y": 3} and conteos["prueba"] == {"x": 4, "y": 4}


def test_estructura_mezclada_da_error(tmp_path):
    carpeta_clases(tmp_path / "train", {"x": 10, "y": 10})
    carpeta_clases(tmp_path, {"gatos": 10})
    with pytest.raises(DatosInvalidos, match="Estructura mezclada"):
        inspeccionar(tmp_path)


def test_particion_falta_una_clase(tmp_path):
    carpeta_clases(tmp_path / "train", {"x": 10, "y": 10})
    carpeta_clases(tmp_path / "validation", {"x": 3})
    informe = inspeccionar(tmp_path)
    assert any("le faltan las clases ['y']" in e for e in informe.errores)


def test_particion_estratificada_y_determinista(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 40, "b": 20})
    imgs = inspeccionar(raiz).validas
    p1, p2 = particion.particionar(imgs, semilla=3), particion.particionar(imgs, semilla=3)
    assert {k: [i.ruta for i in v] for k, v in p1.items()} == {k: [i.ruta for i in v] for k, v in p2.items()}
    cuenta = {n: sum(1 for i in v if i.clase == "a") for n, v in p1.items()}
    assert cuenta == {"entrenamiento": 28, "validacion": 6, "prueba": 6}
    otra = particion.particionar(imgs, semilla=4)
    assert [i.ruta for i in otra["prueba"]] != [i.ruta for i in p1["prueba"]]


def test_reducir_es_determinista_y_anidado(tmp_path):
    imgs = inspeccionar(carpeta_clases(tmp_path, {"a": 30, "b": 30})).validas
    pocas, muchas = particion.reducir(imgs, 5), particion.reducir(imgs, 12)
    assert len(pocas) == 10 and len(muchas) == 24
    assert {i.ruta for i in pocas} <= {i.ruta for i in muchas}


def test_manifiesto_de_flores_coincide_con_los_conteos_oficiales():
    filas = particion.leer_manifiesto(datos.MANIFIESTO_FLORES)
    assert len(filas) == 3670
    por_clase = {}
    for archivo, clase, _ in filas:
        assert archivo.startswith(clase + "/")
        por_clase[clase] = por_clase.get(clase, 0) + 1
    assert por_clase == datos.CONTEOS_FLORES
    excluidas = sorted(a for a, _, p in filas if p == "excluida")
    assert excluidas == ["roses/15922772266_1167a06620.jpg", "tulips/15922772266_1167a06620.jpg"]


def test_manifiesto_se_regenera_igual_desde_una_copia_local(tmp_path):
    config = cfg.obtener_config("rapido")
    raiz = config.datos_dir / "flower_photos"
    if not (raiz / "daisy").is_dir():
        pytest.skip("CURSO_DATOS_DIR no contiene flower_photos/: no se puede regenerar el manifiesto.")
    destino = tmp_path / "particion.csv"
    datos.generar_manifiesto_flores(raiz, destino)
    assert destino.read_text() == datos.MANIFIESTO_FLORES.read_text()


def _flores_falsas(raiz, nombres):
    for i, nombre in enumerate(nombres):
        crear_imagen(raiz / nombre, semilla=i)
    return raiz


def _manifiesto_falso(ruta, nombres):
    with open(ruta, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["archivo", "clase", "particion"])
        for n in nombres:
            w.writerow([n, n.split("/")[0], "entrenamiento"])
    return ruta


NOMBRES_FALSOS = [f"{c}/{c}_{i}.jpg" for c in datos.CONTEOS_FLORES for i in range(2)]


def test_verificacion_detecta_un_conjunto_incompleto(tmp_path, monkeypatch):
    monkeypatch.setattr(datos, "MANIFIESTO_FLORES", _manifiesto_falso(tmp_path / "m.csv", NOMBRES_FALSOS))
    raiz = _flores_falsas(tmp_path / "flower_photos", NOMBRES_FALSOS[:-1] + ["tulips/intrusa.jpg"])
    with pytest.raises(DatosInvalidos, match="faltan 1 archivos y sobran 1.*descargar --datos"):
        datos.verificar_flores(raiz)


def _tgz(ruta, raiz_datos):
    with tarfile.open(ruta, "w:gz") as tar:
        tar.add(raiz_datos, arcname="flower_photos")
    return str(ruta)


def test_descarga_extrae_y_verifica(tmp_path, monkeypatch, entorno_limpio):
    monkeypatch.setattr(datos, "MANIFIESTO_FLORES", _manifiesto_falso(tmp_path / "m.csv", NOMBRES_FALSOS))
    tgz = _tgz(tmp_path / "f.tgz", _flores_falsas(tmp_path / "origen", NOMBRES_FALSOS))
    monkeypatch.setattr("keras.utils.get_file", lambda *a, **k: tgz)
    ruta = datos.descargar_flores(tmp_path / "destino")
    assert sorted(p.relative_to(ruta).as_posix() for p in ruta.rglob("*.jpg")) == sorted(NOMBRES_FALSOS)


def test_descarga_alterada_no_supera_la_verificacion(tmp_path, monkeypatch):
    monkeypatch.setattr(datos, "MANIFIESTO_FLORES", _manifiesto_falso(tmp_path / "m.csv", NOMBRES_FALSOS))
    tgz = _tgz(tmp_path / "f.tgz", _flores_falsas(tmp_path / "origen", NOMBRES_FALSOS[2:]))
    monkeypatch.setattr("keras.utils.get_file", lambda *a, **k: tgz)
    with pytest.raises(DatosInvalidos, match="verificación de integridad"):
        datos.descargar_flores(tmp_path / "destino")
    assert not (tmp_path / "destino" / "flower_photos").exists()


def _sin_red(*args, **kwargs):
    raise Exception("URL fetch failure: [Errno -2] Name or service not known")


def test_sin_red_en_modo_clase_explica_como_trabajar_sin_conexion(entorno_limpio, monkeypatch):
    monkeypatch.setattr(datos, "_candidatas_flores", lambda config: [])
    monkeypatch.setattr("keras.utils.get_file", _sin_red)
    with pytest.raises(datos.DatosNoDisponibles, match="(?s)conexión a internet.*CURSO_DATOS_DIR.*descargar --datos"):
        datos.cargar_flores(cfg.obtener_config("clase"))


def test_canalizacion_tf_data(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 4, "b": 3})
    rutas = sorted(raiz.rglob("*.png"))
    etiquetas = [0 if p.parent.name == "a" else 1 for p in rutas]
    ds = datos.crear_dataset(rutas, etiquetas, 16, 4, preprocesado=lambda x: x / 255.0)
    lotes = list(ds)
    assert [tuple(x.shape) for x, _ in lotes] == [(4, 16, 16, 3), (3, 16, 16, 3)]
    assert np.concatenate([y.numpy() for _, y in lotes]).tolist() == etiquetas
    assert float(max(x.numpy().max() for x, _ in lotes)) <= 1.0


def test_aumento_solo_en_entrenamiento(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 12, "b": 12})
    conjunto = datos.cargar_carpeta(raiz, cfg.obtener_config("completo"))
    tr, val, _ = conjunto.datasets(24, 64, aumento=datos.bloque_aumento(semilla=1), semilla=0)
    v1, v2 = [next(iter(val))[0].numpy() for _ in range(2)]
    assert np.array_equal(v1, v2)
    assert len(conjunto.particiones["entrenamiento"]) == next(iter(tr))[0].shape[0]


def test_informe_en_texto_no_corta_sin_avisar(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    for i in range(5):
        (raiz / "a" / f"n{i}.txt").write_text("x")
    texto = inspeccionar(raiz).texto(max_por_seccion=2)
    assert "… y 3 más." in texto


def test_lectura_de_imagen_con_transparencia_usa_fondo_blanco(tmp_path):
    ruta = tmp_path / "t.png"
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(ruta)
    assert datos.cargar_imagen(ruta, 8).min() == 255


def test_bytes_de_imagen_invalidos_en_memoria_no_se_aceptan(tmp_path):
    raiz = carpeta_clases(tmp_path, {"a": 10, "b": 10})
    buf = io.BytesIO()
    Image.new("RGB", (40, 40)).save(buf, "PNG")
    (raiz / "a" / "cortado.png").write_bytes(buf.getvalue()[:50])
    assert "a/cortado.png" in inspeccionar(raiz).texto()


def test_cli_inspeccionar_sale_con_0_o_2(carpeta_rota, tmp_path, capsys):
    from course_utils.__main__ import main

    assert main(["inspeccionar", str(carpeta_rota)]) == 2
    assert "pajaros" in capsys.readouterr().out
    assert main(["inspeccionar", str(carpeta_clases(tmp_path / "bien", {"a": 10, "b": 10}))]) == 0
    assert main(["inspeccionar", str(tmp_path / "no_existe")]) == 2
