"""Pruebas de la rejilla del cuaderno 06: planificación, reanudación, tabla, conclusiones e informe."""

import dataclasses
import json

import pytest

from course_utils import __main__ as cli
from course_utils import (
    arquitecturas,
    comparaciones,
    demo,
    estadistica,
    informe,
    planificacion,
    registros,
    rejilla,
    resultados,
)
from course_utils import config as cfg


@pytest.fixture
def carpeta(tmp_path_factory):
    """Carpeta diminuta de imágenes generadas (4 clases × 12 imágenes de 48 px)."""
    return demo.generar_demo(tmp_path_factory.mktemp("imagenes") / "frutas", imagenes_por_clase=12, tam=48)


@pytest.fixture
def dir_resultados(monkeypatch, tmp_path):
    monkeypatch.setenv("CURSO_RESULTADOS_DIR", str(tmp_path / "resultados"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path / "resultados"


@pytest.fixture
def bases_aleatorias(monkeypatch):
    """Las bases se construyen con pesos aleatorios: sin red ni archivos de pesos en las pruebas."""
    original = arquitecturas.cargar_base
    monkeypatch.setattr(
        arquitecturas,
        "cargar_base",
        lambda nombre, pesos="imagenet", tam=None, config=None: original(nombre, None, tam, config),
    )


def _registro(arq, estrategia, acc, pesos="local", n=100, semilla=42, segundos=10.0, epocas=5, fecha="2025-01-01"):
    return {
        "arquitectura": arq, "estrategia": estrategia, "etiqueta": "experimentos", "modo": "clase", "pesos": pesos,
        "datos": "flores", "tam_imagen": 160, "imagenes_por_clase": n, "imagenes_entrenamiento": 5 * n,
        "imagenes_prueba": 150, "clases": 5, "semilla": semilla, "epocas": epocas, "segundos_total": segundos,
        "segundos_por_epoca": segundos / epocas, "val_accuracy": acc, "val_loss": 1.0, "test_accuracy": acc,
        "test_loss": 1.0, "parametros_entrenables": 1000, "parametros_totales": 10000, "mb_modelo": 1.0,
        "ms_por_imagen": 2.0, "memoria_pico_mb": 900.0, "dispositivo": "CPU", "fecha": fecha,
        "aciertos_prueba": _aciertos(acc),
    }  # fmt: skip


def _aciertos(exactitud: float, n: int = 150) -> str:
    """Aciertos por imagen coherentes con la exactitud: los primeros round(exactitud·n) aciertan."""
    k = round(exactitud * n)
    return "1" * k + "0" * (n - k)


def test_planificar_por_modo_y_curva_sin_duplicados():
    celdas = planificacion.planificar("rapido")
    assert [(c.arquitectura, c.estrategia) for c in celdas] == [
        ("cnn_desde_cero", "desde_cero"),
        ("mobilenet_v2", "extraccion"),
        ("mobilenet_v2", "extraccion_continuada"),
        ("mobilenet_v2", "fine_tuning"),
        ("squeezenet", "extraccion"),
        ("squeezenet", "extraccion_continuada"),
        ("squeezenet", "fine_tuning"),
        ("squeezenet", "extraccion_nativa"),  # el control del tamaño: la misma caché al tamaño nativo
    ]
    # En clase, lo barato (la caché) usa todas las imágenes y lo caro el subconjunto del modo.
    clase = {(c.arquitectura, c.estrategia): c for c in planificacion.planificar("clase")}
    assert clase[("vgg16", "extraccion")].imagenes_por_clase is None
    assert clase[("vgg16", "fine_tuning")].imagenes_por_clase == 100
    assert clase[("vgg16", "fine_tuning")].imagenes_cache is None
    assert clase[("cnn_desde_cero", "desde_cero")].imagenes_por_clase == 100
    # El control del tamaño, solo donde es barato; con todas las imágenes, como la extracción de la tabla.
    nativas = {a for a, e in clase if e == "extraccion_nativa"}
    assert nativas == set(planificacion.NATIVO_POR_MODO["clase"]) == {"mobilenet_v2", "squeezenet"}
    nativa = clase[("mobilenet_v2", "extraccion_nativa")]
    assert nativa.imagenes_por_clase is None and nativa.imagenes_cache is None
    assert planificacion.config_de("clase", nativa, None, None).tam_imagen is None, "None: el tamaño de la red"
    assert planificacion.config_de("clase", clase[("mobilenet_v2", "extraccion")], None, None).tam_imagen == 160
    assert not any(c.estrategia == "extraccion_nativa" for c in planificacion.planificar("completo"))
    assert not any(
        c.estrategia == "extraccion_nativa" for c in planificacion.planificar("clase", estrategias=["fine_tuning"])
    )
    # Con la curva, la extracción de la tabla (todas las imágenes) es su último punto, sin entrenar nada más.
    curva_clase = planificacion.planificar("clase", curva=True)
    extraccion = [c for c in curva_clase if c.en_curva and c.estrategia == "extraccion" and c.semilla == 42]
    assert sorted(extraccion, key=lambda c: c.imagenes_por_clase or 10**6)[-1].imagenes_por_clase is None
    con_curva = planificacion.planificar("rapido", curva=True)
    claves = [(c.arquitectura, c.estrategia, c.imagenes_por_clase, c.semilla) for c in con_curva]
    assert len(claves) == len(set(claves)), "una celda de la tabla no debe repetirse como punto de la curva"
    assert {c.imagenes_por_clase for c in con_curva if c.en_curva} == {5, 12}
    assert len(planificacion.planificar("clase", curva=True)) > len(planificacion.planificar("clase"))
    # En clase, la curva llega a todas las imágenes también desde cero y en el ajuste fino (una semilla).
    todas = {(c.estrategia, c.semilla) for c in curva_clase if c.en_curva and c.imagenes_por_clase is None}
    assert todas == {("desde_cero", 42), ("extraccion", 42), ("extraccion_continuada", 42), ("fine_tuning", 42)}
    claves = [(c.arquitectura, c.estrategia, c.imagenes_por_clase, c.imagenes_cache, c.semilla) for c in curva_clase]
    assert len(claves) == len(set(claves))
    assert {c.arquitectura for c in planificacion.planificar("completo")} == {"cnn_desde_cero", *arquitecturas.NOMBRES}
    with pytest.raises(ValueError, match="Estrategia desconocida"):
        planificacion.planificar("rapido", estrategias=["transferencia"])


def test_reanudar_no_vuelve_a_entrenar(carpeta, dir_resultados):
    kwargs = {"estrategias": ["desde_cero"], "epocas": 1, "tam_imagen": 32, "carpeta": carpeta}
    primero = rejilla.ejecutar_rejilla("rapido", **kwargs)
    assert primero.entrenadas == 1 and primero.reutilizadas == 0
    lineas = registros.leer(dir_resultados)
    segundo = rejilla.ejecutar_rejilla("rapido", **kwargs)
    assert segundo.entrenadas == 0 and segundo.reutilizadas == 1
    assert registros.leer(dir_resultados) == lineas, "la segunda ejecución no debe añadir registros"
    assert segundo.registros[0]["etiqueta"] == "experimentos"
    # Otro presupuesto de épocas es otra celda: se entrena de nuevo.
    tercero = rejilla.ejecutar_rejilla("rapido", **{**kwargs, "epocas": 2})
    assert tercero.entrenadas == 1
    leido = informe.cargar_informe(dir_resultados, "rapido")
    assert leido is not None and leido.filas[0]["estrategia"] == "desde_cero"
    assert (dir_resultados / "informe_rapido.md").is_file() and (
        dir_resultados / "informe_rapido_exactitud.png"
    ).is_file()


def test_extraccion_y_ajuste_fino_con_la_misma_funcion(carpeta, dir_resultados, bases_aleatorias):
    hecho = rejilla.ejecutar_rejilla(
        "rapido", arquitecturas_elegidas=["squeezenet"],
        estrategias=["extraccion", "extraccion_continuada", "fine_tuning"], epocas=1, tam_imagen=32, carpeta=carpeta,
    )  # fmt: skip
    por_estrategia = {r["estrategia"]: r for r in hecho.registros}
    ext, control, ft = (por_estrategia[e] for e in ("extraccion", "extraccion_continuada", "fine_tuning"))
    assert ext["pesos"] == ft["pesos"] == control["pesos"] == "aleatorios"
    assert len(ext["aciertos_prueba"]) == len(ft["aciertos_prueba"]) == ext["imagenes_prueba"], "la misma prueba"
    assert control["parametros_entrenables"] == ext["parametros_entrenables"], "el control no descongela la base"
    assert ft["parametros_entrenables"] > ext["parametros_entrenables"]
    assert control["epocas"] == ft["epocas"], "el control recibe las mismas épocas que el ajuste fino"
    assert ft["epocas"] == ext["epocas"] + 1, "el ajuste fino suma su fase 1"
    assert ft["segundos_total"] > ext["segundos_total"]
    filas = resultados.tabla(hecho.registros)
    assert all(f["aleatorio"] for f in filas)
    assert "ALEATORIOS" in resultados.tabla_markdown(filas)
    # La cabeza en caché se repite con otras semillas sobre la misma caché: media y rango en la tabla.
    assert ext["otras_semillas"] == [ext["semilla"] + 1, ext["semilla"] + 2]
    assert len(ext["test_accuracy_otras_semillas"]) == 2
    assert "3 semillas: media" in resultados.tabla_pivote_markdown(filas)
    # El control del tamaño: la misma extracción en caché (mismas imágenes de prueba) a 224 px, con McNemar.
    nativa = por_estrategia["extraccion_nativa"]
    assert (nativa["tam_imagen"], ext["tam_imagen"]) == (224, 32)
    assert len(nativa["aciertos_prueba"]) == len(ext["aciertos_prueba"])
    assert nativa["parametros_entrenables"] == ext["parametros_entrenables"]
    assert "Extracción al tamaño nativo" in resultados.tabla_pivote_markdown(filas)
    assert "Al tamaño nativo (224 px), la misma extracción en caché" in comparaciones.conclusiones(filas)


def test_red_sin_pesos_se_omite_sin_romper(carpeta, dir_resultados, monkeypatch, capsys):
    def sin_pesos(*args, **kwargs):
        raise arquitecturas.PesosNoDisponibles("No hay pesos ImageNet para VGG16.")

    monkeypatch.setattr(arquitecturas, "cargar_base", sin_pesos)
    hecho = rejilla.ejecutar_rejilla(
        "clase", arquitecturas_elegidas=["vgg16"], estrategias=["extraccion", "fine_tuning"], epocas=1,
        tam_imagen=32, carpeta=carpeta, escribir=False,
    )  # fmt: skip
    assert "vgg16" in hecho.omitidas and hecho.registros == []
    assert "Se omite VGG16" in capsys.readouterr().out


def test_main_devuelve_2_con_opciones_invalidas(dir_resultados):
    assert cli.main(["experimentos", "--modo", "rapido", "--arquitecturas", "alexnet"]) == 2


def test_tabla_conclusiones_y_contradicciones():
    regs = [
        _registro("cnn_desde_cero", "desde_cero", 0.50, pesos="aleatorios", segundos=20),
        _registro("vgg16", "extraccion", 0.90, segundos=30),
        _registro("vgg16", "fine_tuning", 0.60, segundos=70, epocas=10),
        _registro("resnet50", "extraccion", 0.55, pesos="aleatorios"),
        _registro("vgg16", "extraccion", 0.10, fecha="2024-01-01"),  # más antiguo: no cuenta
    ]
    filas = resultados.tabla(regs)
    assert [(f["arquitectura"], f["estrategia"]) for f in filas] == [
        ("cnn_desde_cero", "desde_cero"),
        ("vgg16", "extraccion"),
        ("resnet50", "extraccion"),
        ("vgg16", "fine_tuning"),
    ]
    assert resultados.mejor_por_red(filas)["vgg16"]["estrategia"] == "extraccion"
    texto = comparaciones.conclusiones(filas, modo="clase")
    assert "0,900" in texto and "0,600" in texto
    assert "Contradice lo esperado" in texto and "empeora" in texto  # el ajuste fino cae 0.30
    assert "ALEATORIOS" in texto  # la causa de ResNet50: pesos aleatorios
    pivote = resultados.tabla_pivote_markdown(filas)
    assert "**0,900**" in pivote and "ResNet50 ⚠" in pivote


def test_curva_agrega_semillas_y_margen():
    regs = [
        _registro("mobilenet_v2", "extraccion", acc, n=n, semilla=s)
        for n, s, acc in ((10, 1, 0.5), (10, 2, 0.7), (50, 1, 0.8), (50, 2, 0.9))
    ]
    puntos = resultados.curva(regs)
    assert [(p["imagenes_por_clase"], p["semillas"]) for p in puntos] == [(10, 2), (50, 2)]
    assert puntos[0]["media"] == pytest.approx(0.6) and puntos[0]["minimo"] == 0.5 and puntos[0]["maximo"] == 0.7
    assert estadistica.margen_error(0.8, 150) == pytest.approx(1.96 * (0.8 * 0.2 / 150) ** 0.5)
    assert "| 50 |" in resultados.curva_markdown(puntos)
    # Las cabezas de otras semillas sobre la misma caché cuentan en el punto de la curva.
    con_otras = [{**regs[0], "test_accuracy_otras_semillas": [0.4, 0.6]}]
    (punto,) = resultados.curva(con_otras)
    assert punto["semillas"] == 3 and punto["media"] == pytest.approx(0.5) and punto["minimo"] == 0.4


def test_la_curva_no_repite_el_control():
    de_curva = [c for c in planificacion.planificar("clase", curva=True) if c.etiqueta != planificacion.ETIQUETA]
    con_n = [c for c in de_curva if c.imagenes_por_clase is not None]
    assert {c.estrategia for c in con_n} == set(planificacion.ESTRATEGIAS_CURVA)
    # El control solo entra en el punto con todas las imágenes, con una semilla.
    assert [(c.imagenes_por_clase, c.semilla) for c in de_curva if c.estrategia == "extraccion_continuada"] == [
        (None, 42)
    ]


def test_cargar_informe_inexistente_o_danado(tmp_path):
    assert informe.cargar_informe(tmp_path, "clase") is None
    (tmp_path / "informe_clase.json").write_text("{roto", encoding="utf-8")
    assert informe.cargar_informe(tmp_path, "clase") is None
    (tmp_path / "informe_clase.json").write_text(
        json.dumps({"modo": "clase", "registros": [_registro("vgg16", "extraccion", 0.8)]}), encoding="utf-8"
    )
    assert informe.cargar_informe(tmp_path, "clase").filas[0]["test_accuracy"] == 0.8


def test_mcnemar_exacta_con_resultados_conocidos():
    # Sin discrepancias no hay nada que contrastar: p = 1.
    assert estadistica.mcnemar_exacta("1100", "1100") == (0, 0, 1.0)
    # b = 1, c = 0: p = 2 · 0,5¹ = 1 (una sola discrepancia no dice nada).
    assert estadistica.mcnemar_exacta("10", "00") == (1, 0, 1.0)
    # b = 6, c = 0: p = 2 · 0,5⁶ = 0,03125.
    assert estadistica.mcnemar_exacta("111111", "000000")[2] == pytest.approx(0.03125)
    # b = 10, c = 2: p = 2 · (1 + 12 + 66) / 2¹² = 0,03857 (tabla binomial).
    a = "1" * 10 + "0" * 2 + "1" * 30
    b = "0" * 10 + "1" * 2 + "1" * 30
    assert estadistica.mcnemar_exacta(a, b) == (10, 2, pytest.approx(158 / 4096))
    # Simétrica: intercambiar los modelos intercambia b y c y no cambia p.
    assert estadistica.mcnemar_exacta(b, a) == (2, 10, pytest.approx(158 / 4096))
    with pytest.raises(ValueError, match="mismas imágenes"):
        estadistica.mcnemar_exacta("101", "10")


def test_comparar_usa_la_prueba_pareada_y_no_la_resta():
    # 0,80 frente a 0,77 con 150 imágenes: las discrepancias (5 contra 0) no bastan (p = 0,0625).
    a = {"aciertos_prueba": _aciertos(0.80)}
    b = {"aciertos_prueba": _aciertos(0.7667)}
    assert estadistica.comparar(a, b)[0] == 0
    # 0,90 frente a 0,60: 45 imágenes a favor y ninguna en contra.
    signo, texto = estadistica.comparar({"aciertos_prueba": _aciertos(0.9)}, {"aciertos_prueba": _aciertos(0.6)})
    assert signo == 1 and "McNemar" in texto
    # Sin aciertos por imagen no se afirma nada.
    assert estadistica.comparar({"test_accuracy": 0.9}, {"test_accuracy": 0.1})[0] == 0


def test_la_seleccion_usa_validacion_y_nunca_la_prueba():
    regs = [
        _registro("vgg16", "extraccion", 0.80, segundos=30),
        _registro("vgg16", "fine_tuning", 0.80, segundos=90),
    ]
    regs[0]["val_accuracy"], regs[0]["test_accuracy"] = 0.90, 0.70  # mejor en validación, peor en prueba
    regs[1]["val_accuracy"], regs[1]["test_accuracy"] = 0.85, 0.95
    filas = resultados.tabla(regs)
    assert resultados.mejor_por_red(filas)["vgg16"]["estrategia"] == "extraccion"
    assert "elegida por validación, **extracción**" in comparaciones.conclusiones(filas, modo="clase")
    # A igualdad de validación gana la más rápida.
    regs[1]["val_accuracy"] = 0.90
    assert resultados.mejor_por_red(resultados.tabla(regs))["vgg16"]["segundos_total"] == 30


def test_el_informe_de_referencia_versionado_se_lee_y_estima_la_rejilla():
    referencia = informe.cargar_referencia("clase")
    assert referencia is not None, "falta resultados_referencia/informe_clase.json o no está marcado como referencia"
    assert referencia.referencia["nucleos"] and referencia.referencia["tensorflow"]
    assert {r["pesos"] for r in referencia.registros if r["estrategia"] != "desde_cero"} <= {"local", "imagenet"}
    assert all(r.get("aciertos_prueba") for r in referencia.registros), "sin aciertos por imagen no hay McNemar"
    segundos = planificacion.estimar_segundos(planificacion.planificar("clase"), referencia)
    assert segundos is not None and 0 < segundos <= sum(r["segundos_total"] for r in referencia.registros)


def test_marcar_como_referencia_etiqueta_fecha_y_maquina(tmp_path, monkeypatch):
    origen = tmp_path / "resultados"
    origen.mkdir()
    regs = [_registro("vgg16", "extraccion", 0.8), _registro("vgg16", "fine_tuning", 0.85, segundos=30)]
    informe.escribir_informe(resultados.Informe("clase", regs), origen)
    monkeypatch.setattr(informe, "CARPETA_REFERENCIA", tmp_path / "referencia")
    assert informe.cargar_referencia("clase") is None
    ruta = informe.marcar_como_referencia(origen, "clase", nota="prueba")
    assert "Informe de REFERENCIA" in ruta.read_text(encoding="utf-8")
    leido = informe.cargar_referencia("clase")
    assert leido.referencia["nota"] == "prueba" and leido.referencia["fecha"]
    # El ajuste fino incluye la extracción de la que parte: la estimación no la cuenta dos veces.
    celdas = planificacion.planificar(
        "clase", arquitecturas_elegidas=["vgg16"], estrategias=["extraccion", "fine_tuning"]
    )
    celdas = [dataclasses.replace(c, imagenes_por_clase=100, imagenes_cache=100) for c in celdas]
    assert planificacion.estimar_segundos(celdas, leido) == pytest.approx(30.0)


def test_la_curva_compara_con_las_mismas_imagenes_y_dice_donde_se_estanca():
    regs = [
        _registro("cnn_desde_cero", "desde_cero", acc, pesos="aleatorios", n=n)
        for n, acc in ((10, 0.30), (50, 0.45), (100, 0.55))
    ] + [_registro("mobilenet_v2", "extraccion", acc, n=n) for n, acc in ((10, 0.60), (50, 0.80), (100, 0.81))]
    todas = dict(_registro("mobilenet_v2", "extraccion", 0.82), imagenes_por_clase=None, imagenes_entrenamiento=2570)
    texto = "\n".join(comparaciones._conclusion_curva(resultados.curva([*regs, todas])))
    assert "se estanca a partir de unas 50 imágenes por clase" in texto
    # La ventaja se mide con 10 y con 100 por clase en las dos (no contra el punto de 514 de la extracción).
    assert "+0,300 con 10 imágenes por clase y +0,260 con 100" in texto
    assert "0,820 con 514 imágenes por clase" in texto
    # Lo que logra desde cero con su punto más grande, frente al primer punto de la extracción que lo iguala.
    assert (
        "Desde cero llega a 0,550 con 100 imágenes por clase; la extracción lo iguala o supera ya con 10 (0,600)"
        in texto
    )
    # Con una semilla en el punto más grande, el ajuste fino frente a su control con McNemar (aciertos por imagen).
    fino = dict(todas, estrategia="fine_tuning", test_accuracy=0.9, aciertos_prueba=_aciertos(0.9))
    control = dict(todas, estrategia="extraccion_continuada", test_accuracy=0.8, aciertos_prueba=_aciertos(0.8))
    texto = "\n".join(comparaciones._conclusion_curva(resultados.curva([*regs, todas, fino, control])))
    assert "- extracción continuada (control): 0,800 con 514 imágenes por clase (1 semilla(s))." in texto
    assert "el ajuste fino (0,900) frente a extracción continuada (control) (0,800): lo supera" in texto
    sin_igualar = [dict(r, test_accuracy=0.2) if r["estrategia"] == "extraccion" else r for r in regs]
    assert "no lo iguala en ningún punto" in "\n".join(comparaciones._conclusion_curva(resultados.curva(sin_igualar)))


def test_el_readme_resume_el_informe_de_referencia_tal_cual():
    referencia = informe.cargar_referencia("clase")
    texto = (cfg.RAIZ_PROYECTO / "README.md").read_text(encoding="utf-8")
    assert informe.resumen_para_readme(referencia) in texto, (
        "El bloque «Resultados medidos» del README no coincide con resultados_referencia/informe_clase.json: "
        'regenéralo con informe.actualizar_readme("README.md", informe.cargar_referencia("clase")).'
    )


def test_el_ajuste_fino_de_la_curva_no_reutiliza_el_de_la_tabla():
    # Con el mismo n y semilla, el de la tabla parte de la caché con todas y el de la curva, de la caché de n.
    celdas = planificacion.planificar("clase", arquitecturas_elegidas=["mobilenet_v2"], curva=True)
    de_tabla = next(c for c in celdas if c.etiqueta == planificacion.ETIQUETA and c.estrategia == "fine_tuning")
    de_curva = next(
        c for c in celdas if c.etiqueta == "curva_100" and c.estrategia == "fine_tuning" and c.semilla == 42
    )
    assert (de_tabla.imagenes_cache, de_curva.imagenes_cache) == (None, 100)
    tabla = {**_registro("mobilenet_v2", "fine_tuning", 0.9), "imagenes_cache_por_clase": None}
    curva = {**tabla, "etiqueta": "curva_100", "imagenes_cache_por_clase": 100, "test_accuracy": 0.8}
    config = planificacion.config_de("clase", de_curva, None, None)

    class Conjunto:
        origen, particiones = "flores", {"entrenamiento": [None] * 500}

    valores = planificacion.valores_clave(de_curva, config, Conjunto(), 160)
    assert (
        planificacion.buscar_terminada([{**tabla, **{k: valores[k] for k in ("epocas_maximas", "receta")}}], valores)
        is None
    )
    assert (
        planificacion.buscar_terminada([{**curva, "epocas_maximas": 5, "receta": valores["receta"]}], valores)
        is not None
    )
    registros_tabla, registros_curva = planificacion.repartir([tabla, curva], celdas)
    assert registros_tabla == [tabla] and registros_curva == [curva]
