"""`wgsiem pipelines simulate | validate | test | install`: the ingest pipelines, offline or on a cluster."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..adapters.elasticsearch import EsSettings
from ..content import INGEST_PIPELINES
from ..ingest.simulate import deep_documents
from ..ingest.simulate import simulate as run_simulate
from ..pipelines.files import load_pipelines, read_bodies
from ..pipelines.testing import PipelineTest, PipelineTestError, discover, run_offline, run_tests
from .groups import ES, ES_OPTIONAL, with_groups
from .setup import fail

app = typer.Typer(
    help="Ingest pipelines: run them offline with Elasticsearch's semantics, check them, test them, install them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PipelineDir = Annotated[
    Path,
    typer.Option("--pipeline-dir", help="Folder of pipeline files (<id>.yml).", file_okay=False, exists=True),
]
GeoipDirs = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--geoip-dir",
        help="Folder of .mmdb files for the geoip processor (repeatable). Default: the test GeoIP world "
        "built from fixtures/geoip/world.yaml.",
        file_okay=False,
        exists=True,
    ),
]

UserAgentDirs = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--user-agent-dir",
        help="Folder of user_agent regex files (repeatable): a processor's regex_file names a *.yml "
        "file in it, as in Elasticsearch's config/user-agent folder. Default: none, only the built-in regexes.",
        file_okay=False,
        exists=True,
    ),
]


@contextmanager
def geoip_dirs(given: list[Path] | None) -> Iterator[list[Path]]:
    """The folders given, or the test GeoIP world built for this command and removed after."""
    if given:
        yield list(given)
        return
    # Built on demand: writing .mmdb files takes a library no other command needs.
    from ..geoworld import DEFAULT_SOURCE, build_world

    with tempfile.TemporaryDirectory(prefix="wgsiem-geoip-") as folder:
        build_world(DEFAULT_SOURCE, Path(folder))
        yield [Path(folder)]


@app.command()
def simulate(
    pipeline_dir: PipelineDir = INGEST_PIPELINES,
    verbose: Annotated[bool, typer.Option("--verbose", help="processor_results: the document after each processor.")] = False,
    geoip_dir: GeoipDirs = None,
    user_agent_dir: UserAgentDirs = None,
) -> None:
    """Elasticsearch's POST _ingest/pipeline/_simulate, offline.

    Reads the request body on stdin ({"pipeline": {...}} or {"pipeline_id": "<id in
    --pipeline-dir>"}, and "docs") and writes Elasticsearch's response on stdout. A pipeline
    file that does not build is treated as Elasticsearch treats a pipeline it refused to
    store: simulating it by id answers the error its PUT would have had, and a pipeline
    processor calling it finds no such pipeline.

    Exit status: 0 when Elasticsearch would answer 200 (the "docs", each a document, an
    error or null); 1 when it would answer an error body (written on stdout: an invalid
    pipeline in the request or in --pipeline-dir, an unknown pipeline id, bad "docs");
    2 when the command itself fails (usage, stdin that is not JSON, a pipeline file that
    cannot be read or parsed, named with its line on stderr).
    """
    with deep_documents():
        try:
            body = json.load(sys.stdin)
        except json.JSONDecodeError as error:
            raise fail(f"stdin: line {error.lineno}, column {error.colno}: {error.msg}") from None
        except UnicodeDecodeError as error:
            raise fail(f"stdin: not UTF-8 text: {error.reason} at byte {error.start}") from None
        except RecursionError:
            raise fail("stdin: the JSON nests too deeply (Elasticsearch takes at most 1000 levels)") from None
        with geoip_dirs(geoip_dir) as geoip:
            pipelines = load_pipelines(pipeline_dir, geoip, keep_failed=True, user_agent_dirs=user_agent_dir)
            status, response = run_simulate(body, pipelines, verbose=verbose, geoip_dirs=geoip, user_agent_dirs=user_agent_dir)
        json.dump(response, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    if status != 200:
        raise typer.Exit(1)


@app.command()
def validate(
    pipeline_dir: PipelineDir = INGEST_PIPELINES,
    geoip_dir: GeoipDirs = None,
    user_agent_dir: UserAgentDirs = None,
) -> None:
    """Check every pipeline: structure, the engine's supported subset, that the pipelines it calls
    exist, and that every field it writes is defined in ecs_mappings/."""
    from ..pipelines.validate import validate_pipelines

    with geoip_dirs(geoip_dir) as geoip:
        pipelines = load_pipelines(pipeline_dir, geoip, user_agent_dirs=user_agent_dir)
    problems = validate_pipelines(pipelines)
    for problem in problems:
        typer.echo(f"{pipeline_dir}/{problem}", err=True)
    if problems:
        raise fail(f"{len(problems)} problem(s) in {len(pipelines)} pipelines", 1)
    typer.echo(f"{len(pipelines)} pipelines valid: {', '.join(sorted(pipelines))}")


@app.command("test")
@with_groups
def test_pipelines(
    pipeline_dir: PipelineDir = INGEST_PIPELINES,
    es: Annotated[Optional[EsSettings], ES_OPTIONAL] = None,
    update: Annotated[bool, typer.Option("--update", help="Write the -expected.json files from what the pipelines give now.")] = False,
    geoip_dir: GeoipDirs = None,
    user_agent_dir: UserAgentDirs = None,
) -> None:
    """Run the pipeline tests (_dev/test/pipeline/<id>/test-*) offline, or with --es through the
    cluster's _simulate (the pipelines are installed there first)."""
    tests = discover(pipeline_dir)
    if not tests:
        raise fail(f"no pipeline tests under {pipeline_dir}/_dev/test/pipeline")
    if es is None:
        with geoip_dirs(geoip_dir) as geoip:
            pipelines = load_pipelines(pipeline_dir, geoip, user_agent_dirs=user_agent_dir)
            results = run_tests(tests, lambda t: run_offline(pipelines, t), update=update)
    else:
        execute = _cluster_runner(pipeline_dir, es)
        results = run_tests(tests, execute, update=update)
    failed = 0
    for result in results:
        status = "ok" if result.passed else "FAIL"
        typer.echo(f"{status:4} {result.test.name} ({len(result.test.events)} events)")
        for problem in result.problems:
            typer.echo(f"     {problem}")
        failed += not result.passed
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


def _cluster_runner(pipeline_dir: Path, settings: EsSettings) -> Callable[[PipelineTest], list[Any]]:
    from ..adapters.elasticsearch import EsError, connect, install, request

    client = connect(settings)
    for pipeline_id, body in read_bodies(pipeline_dir).items():
        install(client, "pipeline", pipeline_id, body)

    def execute(test: PipelineTest) -> list[Any]:
        docs = [{"_index": "test", "_id": str(i), "_source": event} for i, event in enumerate(test.events)]
        try:
            response = request(client, "POST", f"_ingest/pipeline/{test.pipeline_id}/_simulate", {"docs": docs})
        except EsError as error:
            raise PipelineTestError(str(error)) from None
        out: list[Any] = []
        for entry in response["docs"]:
            if entry is None:
                out.append(None)
            elif "error" in entry:
                out.append({"error": entry["error"]})
            else:
                out.append(entry["doc"]["_source"])
        return out

    return execute


@app.command()
@with_groups
def install(
    es: Annotated[EsSettings, ES],
    pipeline_dir: PipelineDir = INGEST_PIPELINES,
    force: Annotated[bool, typer.Option("--force", help="Replace pipelines even where the cluster holds a newer version.")] = False,
) -> None:
    """PUT every pipeline to the cluster. Idempotent: a pipeline already there with the same
    content is left alone, one with a higher `version` is kept unless --force."""
    from ..adapters.elasticsearch import connect
    from ..adapters.elasticsearch import install as put

    bodies = read_bodies(pipeline_dir)
    client = connect(es)
    for pipeline_id, body in bodies.items():
        typer.echo(f"pipeline {pipeline_id}: {put(client, 'pipeline', pipeline_id, body, force=force)}")
