"""The command line: parse, call the library, render, choose the exit code. No math here.

Streams: data (predictions, --json lines, requested tables) on stdout; progress and messages on
stderr. Exit codes: 0 success; 1 a check failed or training diverged; 2 bad usage, config, data or
model file (one `Error: ...` line, never a traceback); 130 Ctrl-C; 143 SIGTERM; 129 SIGHUP. A
closed pipe (`| head`) ends quietly.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from . import __version__
from .errors import NettrainError


class _Command(TyperCommand):
    """A command whose usage line names a required argument as Unix tools do (`fit [OPTIONS]
    CONFIG`): typer 0.28 writes it in braces (`{CONFIG}`), which in a usage line read as a choice."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [
            piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece
            for piece in super().collect_usage_pieces(ctx)
        ]


app = typer.Typer(
    name="nettrain",
    help="Train fully-connected neural networks from a YAML file: forward pass, backpropagation "
    "and gradient descent on NumPy, from the command line.\n\n"
    "Example: nettrain init > my.yaml && nettrain fit my.yaml",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain Click help: Rich help panels cost about 0.1 s at every `--help` (import + render)
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Terminated(BaseException):
    """SIGTERM (exit 143) or SIGHUP (exit 129) arrived."""

    def __init__(self, signal_name: str = "SIGTERM"):
        super().__init__(signal_name)
        self.signal_name = signal_name


#: The signals that stop a command like Ctrl-C does, but say Terminated / Hangup (SIGHUP: a
#: closed terminal or ssh session; absent on Windows).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _error(message: str, code: int = 2, multiline: bool = False) -> typer.Exit:
    from .distributed import rank

    if not multiline:  # a value quoted from the data may hold a line break: keep one line
        message = message.replace("\r", "\\r").replace("\n", "\\n")
    if rank() == 0:  # under MPI every rank meets the same error: one message is enough
        sys.stderr.write(f"Error: {message}\n")
        sys.stderr.flush()
    return typer.Exit(code)


def _internal(exc: BaseException) -> typer.Exit:
    if os.environ.get("NETTRAIN_DEBUG"):
        raise exc
    return _error(
        f"internal error ({type(exc).__name__}: {exc}); please report it. "
        "Set NETTRAIN_DEBUG=1 to see the traceback"
    )


def _gpu_error(exc: BaseException) -> str:
    """The one line for an error raised by CuPy or the CUDA libraries under it (the card's memory
    is full, a driver or library failure: CUDARuntimeError, CUBLASError, cuda.pathfinder's
    DynamicLibNotFoundError, ...), or '' for any other error. CuPy's OutOfMemoryError is a
    MemoryError that names the bytes asked for."""
    if type(exc).__module__.split(".")[0] not in ("cupy", "cupy_backends", "cuda"):
        return ""
    if isinstance(exc, MemoryError):
        return f"out of GPU memory ({exc}); a smaller training.batch_size needs less, or --device cpu"
    return f"GPU error ({type(exc).__name__}: {exc}); NETTRAIN_DEBUG=1 shows where"


def _quiet_pipe_exit() -> typer.Exit:
    """stdout's reader went away (`| head`): stop quietly, as Unix filters do."""
    from .report import stdout_to_devnull

    stdout_to_devnull()  # so the interpreter's final flush cannot fail
    return typer.Exit(141)


def command(fn):
    """Turn library errors into one line and an exit code; Ctrl-C into 130; SIGTERM into 143,
    SIGHUP into 129."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous = {}
        _signalled.clear()
        handlers = [(signal.SIGINT, _on_sigint), *((sig, _on_stop_signal) for sig in STOP_SIGNALS)]
        for sig, handler in handlers:
            if _ignored(sig):
                continue
            try:
                previous[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread (e.g. some test runners)
                pass
        try:
            result = fn(*args, **kwargs)
            _check_signalled()  # an interrupt NumPy swallowed: the command still ends as one
            return result
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            raise _signal_exit("SIGINT") from None
        except Terminated as exc:
            raise _signal_exit(exc.signal_name) from None
        except Exception as exc:
            if _signalled:
                # a signal inside some NumPy string operations comes out as another error
                # (TypeError: result array type does not match ...): it was the signal
                raise _signal_exit(_most_severe(_signalled)) from None
            if isinstance(exc, NettrainError):
                from .distributed import end_together
                from .errors import ConfigError

                end_together(exc)  # (an error every MPI rank met at the same point: no MPI_Abort)
                # a config's problems are listed one per line, on purpose
                raise _error(str(exc), exc.exit_code, multiline=isinstance(exc, ConfigError)) from None
            if isinstance(exc, BrokenPipeError):
                raise _quiet_pipe_exit() from None
            gpu = _gpu_error(exc)
            if gpu:
                raise _error(gpu) from None
            if isinstance(exc, MemoryError):
                raise _error("out of memory") from None
            from .errors import name_too_long, shown

            if name_too_long(exc):  # a name the system refuses, met where no message names it
                where = f": '{shown(exc.filename)}'" if getattr(exc, "filename", None) else ""
                raise _error(f"file name too long{where}") from None
            if os.environ.get("NETTRAIN_DEBUG"):  # a bug in nettrain: one line, unless debugging
                raise
            raise _internal(exc) from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    return wrapper


#: The signals that arrived during a command (set by the handlers below, cleared per command).
_signalled: set[str] = set()


def _ignored(sig) -> bool:
    """A signal this process was started with ignored (nohup's SIGHUP; SIGINT for a shell's
    background job) stays ignored: the one who started it asked for that."""
    try:
        return signal.getsignal(sig) is signal.SIG_IGN
    except ValueError:
        return False


def _on_sigint(signum, frame):
    _signalled.add("SIGINT")
    raise KeyboardInterrupt


def _on_stop_signal(signum, frame):
    _stop_now(signal.Signals(signum).name)


def _stop_now(name: str):
    """Record signal ``name`` and raise what stops the command at once."""
    _signalled.add(name)
    raise KeyboardInterrupt if name == "SIGINT" else Terminated(name)


def _most_severe(names) -> str:
    """SIGTERM over SIGHUP over SIGINT: a job being shut down says so."""
    return next(n for n in ("SIGTERM", "SIGHUP", "SIGINT") if n in names)


def _check_signalled() -> None:
    """Raise the signal that arrived but did not come through: NumPy's string operations catch
    an exception raised inside them (KeyboardInterrupt, Terminated) and carry on, or turn it into
    another. Called before output is written and when a command ends."""
    if _signalled:
        name = _most_severe(_signalled)
        raise KeyboardInterrupt if name == "SIGINT" else Terminated(name)


def _signal_exit(name: str) -> typer.Exit:
    """The message and exit code of a command stopped by signal ``name``."""
    from .errors import SIGNAL_EXIT_CODES

    words = {"SIGINT": "Interrupted", "SIGTERM": "Terminated", "SIGHUP": "Hangup"}
    sys.stderr.write(f"\n{words.get(name, 'Stopped')}.\n")
    return typer.Exit(SIGNAL_EXIT_CODES.get(name, 130))


def _version(value: bool):
    if value:
        sys.stdout.write(f"nettrain {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
):
    """Train fully-connected neural networks from a YAML file.

    Example: nettrain init > my.yaml && nettrain fit my.yaml
    """


# -- shared options ---------------------------------------------------------------------------------

ConfigArg = Annotated[
    Path, typer.Argument(help="The YAML config file, or - for stdin.", show_default=False, metavar="CONFIG")
]
ModelArg = Annotated[
    Path,
    typer.Argument(help="A model file (model.npz) or its run folder.", show_default=False, metavar="MODEL"),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a config key: key.path=value (value parsed as YAML 1.2; key.path=null for the "
        "default). Repeatable.",
        metavar="KEY=VALUE",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or messages on stderr.")]
DeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device",
        help="cpu, gpu, gpu:N or auto (overrides the config).",
        show_default=False,
        metavar="DEVICE",
    ),
]
RunDeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device",
        help="Where to compute: cpu (the default), gpu, gpu:N or auto.",
        show_default=False,
        metavar="DEVICE",
    ),
]


def _finite(value: float) -> float:
    """An option's number must be finite (NaN passes every `min=` check)."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def _device(text: str | None):
    from .backend import resolve_device

    return resolve_device(text or "auto")


def _stdout_takes(text: str) -> bool:
    """Whether standard output's encoding can write ``text`` (not under PYTHONIOENCODING=ascii,
    or an old Windows console)."""
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _box():
    from rich import box

    # light rules: read well on a terminal and in a file or a diff; ASCII where they cannot be written
    return box.SIMPLE_HEAD if _stdout_takes("─━│") else box.ASCII


class _RstripWriter:
    """A file for Rich off a terminal: whole lines without the padding spaces tables end with."""

    def __init__(self, out):
        self.out = out
        self.pending = ""

    def write(self, text: str) -> int:
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        for line in lines:
            self.out.write(line.rstrip() + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return False


def _stdout_console(width: int = 200):
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich would exit 1 ("a check failed"): let `command` end quietly, as filters do
            self.quiet = True
            raise BrokenPipeError

    # markup=False: file names, features and class labels are the data's words; '[/]' or
    # '[bold]a' in them must be printed as written, not parsed (or fail) as Rich markup
    if sys.stdout.isatty():
        return StdoutConsole(file=sys.stdout, highlight=False, markup=False)
    # off a terminal Rich would wrap at 80 columns: a file or a pipe gets long plain lines instead
    return StdoutConsole(
        file=_RstripWriter(sys.stdout), highlight=False, markup=False, width=width, no_color=True
    )


def _load(config: Path, overrides: list[str] | None, device: str | None = None):
    from .config import load_config

    return _with_device(load_config(config, overrides or []), device)


def _stored(resume: Path, overrides: list[str] | None, device: str | None = None):
    """The config the checkpoint ``--resume`` names stores, with the overrides and device."""
    from .checkpoint import find_checkpoint, stored_config
    from .config import config_from_dict

    path = find_checkpoint(resume)
    cfg = config_from_dict(stored_config(path), Path.cwd(), f"config of {path}", overrides or [])
    return _with_device(cfg, device)


def _with_device(cfg, device: str | None):
    from dataclasses import replace

    from .backend import parse_device

    if device is not None:
        parse_device(device)
        cfg = replace(cfg, device=device)
    return cfg


# -- fit --------------------------------------------------------------------------------------------


@app.command(cls=_Command)
@command
def fit(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="The YAML config file, or - for stdin; left out with --resume, the config the "
            "checkpoint stores.",
            show_default=False,
            metavar="[CONFIG]",
        ),
    ] = None,
    set_: SetOpt = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Run folder (overrides the config's output).",
            show_default=False,
            metavar="DIR",
        ),
    ] = None,
    device: DeviceOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Check the config and data, print the resolved config (stdout; one JSON object "
            "with --json) and the layer shapes (stderr), and stop.",
        ),
    ] = False,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="Continue from a checkpoint: a run folder (its newest checkpoint-N.npz) or a file; "
            "the run goes on in that folder unless --output says otherwise.",
            show_default=False,
            metavar="RUN_OR_CHECKPOINT",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Resume even though the config or data changed.")
    ] = False,
    warm_start: Annotated[
        Path | None,
        typer.Option(
            "--warm-start",
            help="Start from a trained model's weights (a model file, run folder or checkpoint) instead of "
            "fresh ones: a new run on the config's data, encoded with the model's encoding.",
            show_default=False,
            metavar="MODEL",
        ),
    ] = None,
    unknown: Annotated[
        str | None,
        typer.Option(
            "--unknown",
            help="With --warm-start, a category of the training data the model never saw: error "
            "(exit 2) or ignore (encode it as all zeros, with a note). Default error; with "
            "--resume, what the run was started with.",
            metavar="error|ignore",
            show_default=False,
        ),
    ] = None,
):
    """Train the network a config describes.

    Writes OUTPUT/model.npz, OUTPUT/history.jsonl and OUTPUT/config.yaml (the resolved config).

    Ctrl-C (or SIGTERM, SIGHUP) stops after the current step, saves a checkpoint and prints the
    command that resumes it; before the first step it stops at once, writing nothing.

    Example: nettrain fit configs/digits.yaml --set training.epochs=50 -o runs/digits50
    """
    from .config import is_stream
    from .distributed import together
    from .train import fit as run_fit

    def setup():
        """The options and the config checked: under MPI on every rank, which then agree on the
        outcome (distributed.together), so that a config error every rank meets ends the job
        with its exit code alone."""
        if warm_start is not None and resume is not None:
            raise NettrainError(
                "--warm-start and --resume do not go together: --resume continues a run (its "
                "weights, optimizer state and epochs); --warm-start begins a new one from a model's "
                "weights"
            )
        checked = _check_unknown(unknown) if unknown is not None else _resumed_unknown(resume)
        if json_ or dry_run:  # a closed stdout (`>&-`) fails now: not after the data is read and an
            sys.stdout.write("")  # epoch trained, when the first JSON line could not be written
        if config is None:
            if resume is None:
                raise NettrainError(
                    "fit needs a CONFIG (or --resume RUN_OR_CHECKPOINT alone: the config it stores)"
                )
            cfg = _stored(resume, set_, device)
        else:
            cfg = _load(config, set_, device)
        if output is not None:
            if not output.strip():  # (as a Path, '' would silently be the current folder)
                raise NettrainError("--output is empty: name the run folder (-o runs/name)")
            cfg = cfg.with_output(output)
        elif resume is not None:  # resuming a run continues it where it is: its folder, not the config's
            from .checkpoint import find_checkpoint

            cfg = cfg.with_output(str(find_checkpoint(resume).parent))
        return cfg, checked

    cfg, unknown = together(setup)
    # a config read from standard input or a pipe cannot be read again: the resume command uses
    # the one the checkpoint stores (whose paths are absolute) instead of naming it
    keep_config = config is not None and not is_stream(config)
    if dry_run:
        _dry_run(cfg, quiet, resume, force, warm_start, unknown, json_)
        return
    from .errors import Interrupted, TrainingDiverged
    from .report import make_reporter

    reporter = make_reporter(json_lines=json_, quiet=quiet)
    stop = _StopFlag()

    def stop_requested() -> str | None:
        # a signal, or the --json lines' reader gone (`| head -1`): the Unix stop for a writer
        # whose pipe closed, after a checkpoint here, so that no training is lost
        return stop.get() or ("SIGPIPE" if getattr(reporter, "closed", False) else None)

    try:
        with stop:
            run_fit(
                cfg,
                reporter,
                stdin=sys.stdin,
                resume=str(resume) if resume else None,
                force=force,
                stop=stop_requested,
                warm_start=warm_start,
                unknown=unknown,
            )
    except TrainingDiverged as exc:
        from .distributed import rank

        if json_ and rank() == 0:  # a program reading the JSON lines learns why they stopped
            sys.stdout.write(
                json.dumps({"event": "error", "error": str(exc), "exit_code": exc.exit_code}) + "\n"
            )
            sys.stdout.flush()
        raise
    except Interrupted as exc:
        reporter.close()
        from .distributed import world

        w = world()
        # Under MPI every rank stops after the same step. A rank that exits with a nonzero code
        # aborts the whole job, so the others wait here until rank 0 has written its checkpoint
        # (inside fit) and the resume command.
        if w is not None and w.rank != 0:
            w.barrier()
            raise typer.Exit(exc.exit_code) from None
        sys.stderr.write(f"\n{exc}\n")
        command = None
        if exc.checkpoint:
            command = shlex.join(relaunch(w) + resume_argv(sys.argv[1:], exc.checkpoint, keep_config))
            sys.stderr.write(f"Resume with: {command}\n")
        sys.stderr.flush()
        if json_:  # a program reading the JSON lines learns why they stopped, and how to go on
            event = {"event": "interrupted", "signal": exc.signal_name, "message": str(exc)}
            event.update({"checkpoint": exc.checkpoint, "resume": command, "exit_code": exc.exit_code})
            sys.stdout.write(json.dumps(event) + "\n")
            sys.stdout.flush()
        if w is not None:
            w.barrier()
        raise typer.Exit(exc.exit_code) from None
    finally:
        reporter.close()


def relaunch(world=None) -> list[str]:
    """The start of a command that runs this program again as it was started: ``nettrain`` when
    that is the script on the PATH that is running, else this very Python with ``-m nettrain``
    (so that it works without the virtual environment activated); under MPI, with the launcher
    and this world's size."""
    import shutil

    if world is not None:  # the mpiexec beside this Python (its MPI), else the one on the PATH
        beside = Path(sys.executable).with_name("mpiexec")
        launcher = str(beside) if beside.exists() else "mpiexec"
        return [launcher, "-n", str(world.size), sys.executable, "-m", "mpi4py", "-m", "nettrain"]
    script = shutil.which("nettrain")
    if (
        script
        and Path(sys.argv[0]).name == "nettrain"
        and Path(script).resolve() == Path(sys.argv[0]).resolve()
    ):
        return ["nettrain"]
    return [sys.executable, "-m", "nettrain"]


def resume_argv(argv: list[str], checkpoint: str, keep_config: bool = True) -> list[str]:
    """The arguments that resume an interrupted fit, from any folder: these ones, with ``--resume``
    naming the checkpoint just written (not an earlier ``--resume`` value, which may be an older
    checkpoint, nor the run folder, whose highest-numbered checkpoint may be left from another
    run), without ``--warm-start`` (the checkpoint holds the weights, and resume refuses it),
    keeping ``--unknown`` (a warm-started run's data is read with the model's encoding again),
    and every path typed relative to the current folder made absolute: CONFIG, ``-o`` and
    the paths of ``--set data.train=`` / ``data.test`` / ``data.validation`` / ``output``.
    ``argv`` starts with the command's name (``fit``). Without ``keep_config`` CONFIG is left out
    (one read from standard input or a pipe): the resumed fit takes the checkpoint's."""
    out: list[str] = []
    args = iter(argv)
    positional = False  # after '--'
    arguments = 0  # the command's name, then CONFIG
    for a in args:
        if positional or a == "-" or not a.startswith("-"):
            arguments += 1
            if arguments == 2 and not keep_config:
                continue
            out.append(a if not out or a == "-" else _absolute(a))  # (out empty: 'fit' itself)
        elif a == "--":
            positional = True
            out.append(a)
        elif a.startswith("--"):
            name, eq, value = a.partition("=")
            if name in ("--resume", "--warm-start"):  # (a resumed run has its weights already)
                if not eq:
                    next(args, None)
                continue
            if name in ("--output", "--set", "--device", "--unknown") and not eq:
                value = next(args, "")
            if name in ("--device", "--unknown"):
                out += [a] if eq else [a, value]
            elif name == "--output":
                out += [f"--output={_absolute(value)}"] if eq else ["--output", _absolute(value)]
            elif name == "--set":
                first, *more = _absolute_set(value)
                out += [f"--set={first}"] if eq else ["--set", first]
                for extra in more:
                    out += ["--set", extra]
            else:
                out.append(a)
        else:  # short options, perhaps together: -q, -o DIR, -oDIR, -qo DIR
            flags = a[1:]
            at = flags.find("o")
            if at < 0 or set(flags[:at]) - {"q", "h"}:
                out.append(a)
                continue
            value = flags[at + 1 :] or next(args, "")
            out += [f"-{flags[: at + 1]}", _absolute(value)]
    at = out.index("--") if "--" in out else len(out)  # (an option after '--' would be an argument)
    return [*out[:at], "--resume", _absolute(checkpoint), *out[at:]]


def _absolute(path: str) -> str:
    """``path`` (relative to the current folder) as an absolute path that names the same file
    from anywhere (config.absolute_path); an absolute one as it is."""
    from .config import absolute_path

    return path if not path or os.path.isabs(path) else absolute_path(path)


#: The config keys that hold a path (resolved against the current folder when set by --set).
PATH_KEYS = (("data", "train"), ("data", "test"), ("data", "validation"), ("output",))


def _absolute_set(text: str) -> list[str]:
    """A --set override with its relative paths made absolute: [the override, more overrides]
    (one mapping may set several paths, e.g. data={train: a.csv, test: b.csv}; each gets its own
    override after it, so the mapping's other keys stay as they were)."""
    from .config import parse_override
    from .errors import ConfigError

    try:
        key, value = parse_override(text)
    except ConfigError:
        return [text]
    if key in PATH_KEYS:
        absolute = _absolute_path_value(value)
        return [text if absolute is None else f"{'.'.join(key)}={_yaml_text(absolute)}"]
    extras = []
    for path in PATH_KEYS:
        if len(path) > len(key) and path[: len(key)] == key:
            node = value
            for part in path[len(key) :]:
                node = node.get(part) if isinstance(node, dict) else None
            absolute = _absolute_path_value(node)
            if absolute is not None:
                extras.append(f"{'.'.join(path)}={_yaml_text(absolute)}")
    return [text, *extras]


def _absolute_path_value(value) -> str | None:
    """The absolute form of a relative path given by --set; None when there is nothing to change
    (not a path, '-', already absolute, '~/...')."""
    if not isinstance(value, str) or not value.strip() or value == "-":
        return None
    if os.path.isabs(os.path.expanduser(value)):
        return None
    return _absolute(value)


def _yaml_text(text: str) -> str:
    """``text`` as a --set value that reads back as that string (quoted only when it must be)."""
    from .config import parse_override
    from .errors import ConfigError

    try:
        if parse_override(f"k={text}")[1] == text:
            return text
    except ConfigError:
        pass
    return json.dumps(text)  # a JSON string is a double-quoted YAML string


class _StopFlag:
    """SIGINT / SIGTERM / SIGHUP during fit: the first asks training to stop after the current
    step (and write a checkpoint); a second one stops at once. Before the first step (reading
    the data, building the network) there is nothing to save: a signal stops at once, and
    nothing is written. (Under MPI the ranks stop together, after a step: always the flag.)

    A second signal within ``SAME_STOP_S`` of the first is the same request delivered twice (a
    CI runner signals the process group while a wrapper forwards the signal too): ignored, so
    the checkpoint is still written."""

    SAME_STOP_S = 1.0

    def __init__(self):
        self.signal_name: str | None = None
        self.first_at = 0.0
        self.training = False
        self.stopping = False
        self.previous: dict = {}

    def get(self) -> str | None:
        if not self.training:  # the first step: from here on a stop writes a checkpoint
            self.training = True
            _check_signalled()  # (a signal that a NumPy string operation swallowed while reading)
        return self.signal_name

    def _handle(self, signum, frame):
        from .distributed import rank, world

        name = signal.Signals(signum).name
        if self.stopping:  # stopping at once already: the clean-up (the run folder's lock, a
            return  # folder made for it) must not be cut short by the same request again
        if not self.training and world() is None:
            self.stopping = True
            _stop_now(name)
        if self.signal_name is not None:
            if time.monotonic() - self.first_at < self.SAME_STOP_S:
                return
            self.stopping = True
            _stop_now(name)  # asked twice: stop now
        self.signal_name, self.first_at = name, time.monotonic()
        if rank() == 0:  # under MPI every rank gets the signal: one of them says so
            sys.stderr.write(
                f"\n{self.signal_name}: stopping after this step and saving a checkpoint "
                "(again, a second or more later, to stop at once)\n"
            )

    def __enter__(self):
        for sig in (signal.SIGINT, *STOP_SIGNALS):
            if _ignored(sig):
                continue
            try:
                self.previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return False


def _dry_run(
    cfg,
    quiet: bool,
    resume: Path | None = None,
    force: bool = False,
    warm_start: Path | None = None,
    unknown: str = "error",
    json_: bool = False,
) -> None:
    """fit --dry-run: the resolved config on stdout (YAML; with ``json_``, one JSON object that
    also holds what the plain form writes on stderr), the layer shapes and row counts on stderr."""
    from .backend import nettrain_threads, resolve_device
    from .config import with_data_sizes
    from .data import StreamedDataset, load_run_data
    from .train import (
        check_memory,
        check_monitors,
        check_output,
        check_unknown,
        class_weights,
        open_checkpoint,
        start_from,
    )

    # what fit checks before it trains: the device (and NETTRAIN_THREADS on the CPU), the run
    # folder, the checkpoint to resume, the class weights against the data's classes, the memory
    # the network needs
    device = resolve_device(cfg.device)
    if device.kind == "cpu":
        nettrain_threads()
    check_output(cfg)
    # the model's network against the config's, before the data; a checkpoint to resume (compared
    # with the config once the data is read)
    warm, cfg, encoding, encoding_n = start_from(cfg, warm_start, resume)
    check_unknown(unknown, encoding is not None)
    from .distributed import load_once, rank

    data = load_once(
        lambda: load_run_data(
            cfg, stdin=sys.stdin, encoding=encoding, encoding_rows=encoding_n, unknown=unknown
        ).without_tables()
    )
    cfg = with_data_sizes(cfg, data.encoding.n_inputs, data.encoding.n_outputs)
    check_monitors(cfg, data.validation is not None)
    streamed = isinstance(data.train, StreamedDataset)
    class_weights(cfg, data.encoding.classes, None if streamed else data.train.Y)
    if device.kind == "cpu":
        check_memory(cfg, snapshot=True)  # (as the command runs fit: with its Ctrl-C copy)
    checkpoint = open_checkpoint(resume, cfg, force) if resume is not None else None
    if rank() != 0:  # under MPI, rank 0 speaks for the job
        return
    sizes = cfg.network.layers
    acts = [*cfg.network.activation, cfg.network.output]
    last = len(sizes) - 2
    layers = []
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bias = l < last or cfg.network.output_bias  # network.output_bias: false drops the last b
        n = fan_out * fan_in + (fan_out if bias else 0)
        layers.append(
            {"W": [fan_out, fan_in], "b": fan_out if bias else None, "activation": acts[l], "parameters": n}
        )
    counts = {"train": len(data.train), "streamed": streamed}
    if data.validation is not None:
        counts["validation"] = len(data.validation)
    if data.test is not None:
        counts["test"] = len(data.test)
    if data.encoding.classes:
        counts["classes"] = len(data.encoding.classes)
    if json_:
        from .metrics import json_ready

        report = {
            "config": cfg.to_dict(),
            "task": cfg.task,
            "layers": layers,
            "parameters": sum(layer["parameters"] for layer in layers),
            "data": counts,
            "resume": None
            if checkpoint is None
            else {"checkpoint": os.path.abspath(checkpoint[0]), "epoch": checkpoint[2]["epoch"]},
            "warm_start": None if warm is None else warm.record(),
        }
        sys.stdout.write(json.dumps(json_ready(report)) + "\n")
    else:
        sys.stdout.write(cfg.to_yaml())
    if quiet:
        return
    err = sys.stderr
    for note in ([device.notice] if device.notice else []) + data.notes:  # (fit's notices, as fit says them)
        err.write(f"Note: {note}\n")
    err.write(f"layers ({cfg.task}, cost {cfg.cost}, {cfg.dtype}):\n")
    rows = [
        (
            f"W({l + 1}) {x['W'][0]}x{x['W'][1]}",
            "no bias" if x["b"] is None else f"b({l + 1}) {x['b']}",
            x["activation"],
            f"{x['parameters']:,}",
        )
        for l, x in enumerate(layers)
    ]
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    for r in rows:
        err.write(
            f"  {r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  -> {r[2]:<{widths[2]}}  "
            f"{r[3]:>{widths[3]}} parameters\n"
        )
    err.write(f"  total {sum(x['parameters'] for x in layers):,} parameters\n")
    parts = [f"train {counts['train']} rows" + (" (streamed)" if streamed else "")]
    parts += [f"{key} {counts[key]}" for key in ("validation", "test") if key in counts]
    if "classes" in counts:
        parts.append(f"{counts['classes']} classes")
    if cfg.data.weight is not None:  # (a str: a header name, or an NPY's index as text)
        parts.append(f"weighted by column '{cfg.data.weight}'")
    err.write("data: " + ", ".join(parts) + "\n")
    err.write(f"output: {cfg.output}\n")
    if checkpoint is not None:
        err.write(f"resume: {checkpoint[0]}, after epoch {checkpoint[2]['epoch']}\n")
    if warm is not None:
        err.write(f"warm start: {warm.name} (weights sha256 {warm.weights_sha256})\n")


# -- predict ----------------------------------------------------------------------------------------


def _open_input(path: str):
    if path == "-" and sys.stdin is not None and sys.stdin.isatty():
        raise NettrainError("no input: give a data file, or pipe rows into '-'")
    return path


UnknownOpt = Annotated[
    str,
    typer.Option(
        "--unknown",
        help="A category training never saw: error (exit 2) or ignore (encode it as all zeros).",
        metavar="error|ignore",
    ),
]


def _resumed_unknown(resume: Path | None) -> str:
    """fit's --unknown left out: 'ignore' where --resume names a warm-started run that was
    started with --unknown ignore (its model's ``warm_start`` says so; the resumed run reads its
    data with the model's encoding again, and would refuse the categories it took), else 'error'."""
    if resume is None:
        return "error"
    from .checkpoint import find_checkpoint
    from .modelfile import read_meta

    warm = read_meta(find_checkpoint(resume)).get("warm_start")
    return "ignore" if isinstance(warm, dict) and warm.get("unknown") == "ignore" else "error"


def _check_unknown(unknown: str) -> str:
    from .data import UNKNOWN_POLICIES
    from .errors import did_you_mean

    if unknown not in UNKNOWN_POLICIES:
        raise NettrainError(
            f"--unknown '{unknown}' is not known{did_you_mean(unknown, UNKNOWN_POLICIES)}; "
            "one of: error, ignore"
        )
    return unknown


def _read_inputs(
    path: str,
    enc,
    need_target: bool,
    keep: tuple[str, ...] = (),
    weight: str | None = None,
    weight_given: str = "",
):
    """The input's tables a chunk of rows at a time (read_for_model_chunks); ``weight``: with
    that column's cells in each table's ``w``."""
    from .data import read_for_model_chunks

    return read_for_model_chunks(
        _open_input(path),
        enc,
        need_target=need_target,
        stdin=sys.stdin,
        keep=keep,
        weight=weight,
        weight_given=weight_given,
    )


#: predict's format when -f is not given, by -o's extension (else csv)
OUTPUT_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".npy": "npy",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@app.command(cls=_Command)
@command
def predict(
    model: ModelArg,
    input: Annotated[
        str, typer.Argument(help="CSV, NPY, NPZ or Parquet file of inputs, or - for stdin.", metavar="INPUT")
    ] = "-",
    proba: Annotated[bool, typer.Option("--proba", help="Add one prob_<label> column per class.")] = False,
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="csv, jsonl, npy or parquet. Default: from -o's extension (.jsonl, .npy, .parquet), "
            "else csv.",
            show_default=False,
            metavar="FORMAT",
        ),
    ] = None,
    out: Annotated[
        str, typer.Option("--output", "-o", help="Output file, or - for stdout.", metavar="FILE")
    ] = "-",
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            help="Copy this input column (an id) into the output, before the prediction. Repeatable.",
            metavar="COLUMN",
        ),
    ] = None,
    unknown: UnknownOpt = "error",
    device: RunDeviceOpt = None,
    quiet: QuietOpt = False,
):
    """Predict one row of output per input row, in order.

    The prediction is the class label as written in the training data, or the value in the
    target's units. CSV and Parquet inputs are matched to the model's features by column name;
    extra columns (ids, the target) are ignored. Under data.missing: drop, a row with a missing value gets an
    empty prediction.

    The input is read, predicted and written a chunk of rows at a time: output starts at once,
    and on stdout the rows before a bad one have been written when the error comes (-o FILE is
    written whole or not at all).

    Example: cat data/digits_test.csv | nettrain predict runs/digits/model.npz - --proba > p.csv
    """
    import numpy as np

    from .modelfile import load_model

    if format_ is None:  # (-o predictions.parquet writes Parquet, not CSV text in a .parquet file)
        # (the name's end, as the readers take it: '-o .parquet' is Parquet to them, not a dotfile)
        format_ = next((f for suffix, f in OUTPUT_SUFFIXES.items() if out.lower().endswith(suffix)), "csv")
    fmt = format_.lower()
    formats = ["csv", "jsonl", "npy", "parquet"]
    if fmt not in formats:
        from .errors import did_you_mean

        raise NettrainError(
            f"--format '{format_}' is not known{did_you_mean(fmt, formats)}; one of: {', '.join(formats)}"
        )
    if fmt == "parquet":  # (before anything is read: without pyarrow nothing could be written)
        from .data.parquet import check_writer

        check_writer("--format parquet")
        if out == "-":
            _binary_stdout("Parquet", "predictions.parquet")
    _check_unknown(unknown)
    if not out.strip():  # (else, after reading every row: "cannot write '.': it is a folder")
        raise NettrainError("--output is empty: name the file to write (-o predictions.csv), or - for stdout")
    _refuse_folder_name(out)  # (before reading every row)
    keep = tuple(keep or ())
    if keep and fmt == "npy":
        raise NettrainError("--keep copies text columns: use --format csv, jsonl or parquet, not npy")
    clash = [
        k for k in keep if keep.count(k) > 1 or k == "prediction" or k.startswith(("prediction_", "prob_"))
    ]
    if clash:
        raise NettrainError(f"--keep '{clash[0]}': named twice, or the name of an output column")
    _refuse_to_overwrite(out, model=_model_file(model), input=input)
    m = load_model(model, device=_device(device) if device else None)
    enc = m.encoding
    if proba and enc.task != "classification":
        raise NettrainError("--proba needs a classification model; this one predicts values")
    tables = _read_inputs(input, enc, need_target=False, keep=keep)
    float_dtype = np.float32 if m.network.dtype.itemsize == 4 else np.float64
    if enc.task == "regression" and enc.n_outputs > 1:
        names = [f"prediction_{j}" for j in range(enc.n_outputs)]
    else:
        names = ["prediction"]
    if proba:
        names += [f"prob_{c}" for c in enc.classes]
    names = [*keep, *names]
    counts = [0, 0]  # rows left out for missing values, rows read

    def note_left_out() -> None:
        if counts[0] and not quiet:
            sys.stderr.write(
                f"Note: {counts[0]} of {counts[1]} rows have missing values and get an empty "
                "prediction (the model's data.missing is drop)\n"
            )

    if fmt == "npy":  # the header holds the row count: the outputs of every chunk, then the file
        outputs, kept_rows = [], []
        for table in tables:
            s, kept = m.outputs_kept(table, unknown, logits=proba)  # (probabilities: from the logits)
            outputs.append(m.probabilities(s) if proba else s)
            kept_rows.append(kept)
            counts[0], counts[1] = counts[0] + int((~kept).sum()), counts[1] + len(kept)
        s, kept = np.concatenate(outputs), np.concatenate(kept_rows)
        del outputs, kept_rows
        note_left_out()
        buffer = io.BytesIO()
        np.save(buffer, _npy_predictions(enc, s, kept, proba, float_dtype), allow_pickle=False)
        _write_bytes(out, buffer.getvalue())
        return
    chunks = _prediction_columns(tables, m, proba, keep, unknown, counts)
    if fmt == "parquet":
        _write_pieces(out, _prediction_parquet(chunks, enc, names, len(keep), float_dtype), binary=True)
    else:
        _write_pieces(out, _prediction_texts(chunks, enc, names, fmt == "jsonl", float_dtype))
    note_left_out()


def _kept_columns(table, keep: tuple[str, ...]) -> list:
    """The input columns --keep copies into the output, as read."""
    columns = []
    for name in keep:
        if not table.named or name not in table.features:
            from .errors import did_you_mean

            where = (
                "the model reads its inputs by position (it was trained on an array or a CSV "
                "without a header), so their columns have no names to keep"
                if not table.named
                else f"no such column{did_you_mean(name, table.features)}"
            )
            raise NettrainError(f"--keep '{name}': {table.source}: {where}")
        columns.append(table.column(table.features.index(name)))
    return columns


def _npy_predictions(enc, s, kept, proba: bool, float_dtype):
    """predict --format npy's array: probabilities (n, classes), ``s`` being them under ``proba``;
    labels as numbers where they are numbers (NaN where a row was left out), else text ('' where
    left out); values."""
    import numpy as np

    n = len(kept)
    if proba:
        array = np.full((n, len(enc.classes)), np.nan, dtype=float_dtype)
        array[kept] = s
        return array
    pred = enc.decode(s)
    if enc.task != "classification":
        array = np.full((n, *pred.shape[1:]), np.nan)
        array[kept] = pred
        return array
    try:  # number labels (an array's, or integer text) give numbers; any other, text
        values = pred if pred.dtype.kind in "iuf" else np.array([int(c) for c in pred], np.int64)
        if kept.all():
            return values
        array = np.full(n, np.nan)
        array[kept] = values
    except ValueError:
        array = np.full(n, "", dtype=f"<U{max(len(c) for c in enc.classes)}")
        array[kept] = pred.astype(str)
    return array


def _prediction_columns(tables, m, proba: bool, keep, unknown, counts):
    """The predictions of each chunk of the input, made when the chunk has been read: per chunk
    (the --keep columns as read, every row; the output columns (prediction(s), then the
    probabilities), of the rows kept only; kept (n,) bool). ``counts`` gathers the rows left
    out for missing values and the rows read."""
    enc = m.encoding
    for table in tables:
        kept_columns = _kept_columns(table, keep)
        s, kept = m.outputs_kept(table, unknown, logits=proba)
        probs = None
        if proba:  # from the logits (one sigmoid unit: P(first class) = sigmoid(-z), not 1 - s)
            probs, s = m.probabilities(s), m.network.f_out(s)
        counts[0], counts[1] = counts[0] + int((~kept).sum()), counts[1] + len(kept)
        pred = enc.decode(s)
        if enc.task == "regression":
            cols = [pred] if pred.ndim == 1 else [pred[:, j] for j in range(pred.shape[1])]
        else:
            cols = [pred]
        if probs is not None:
            cols += [probs[:, j] for j in range(probs.shape[1])]
        yield kept_columns, cols, kept


def _digits(float_dtype) -> int:
    """Significant digits written of a float: the model's precision."""
    import numpy as np

    return 7 if float_dtype is np.float32 else 17


def _prediction_texts(chunks, enc, names, as_json: bool, float_dtype):
    """``_prediction_columns``'s chunks as CSV (the header first) or JSON lines: one piece of
    text per chunk."""
    import numpy as np

    digits = _digits(float_dtype)
    header = not as_json
    for kept_columns, cols, kept in chunks:
        n = len(kept)
        # the columns as text (or JSON values), one entry per input row; '' / null where dropped
        texts = [[str(v) for v in column.tolist()] for column in kept_columns]  # every row, as read
        for k, col in enumerate(cols):
            if enc.task == "classification" and k == 0:
                # labels as text; JSON keeps number labels (an array's) numbers, as NPY does
                values = col.tolist() if as_json and col.dtype.kind in "iuf" else [str(v) for v in col]
            elif as_json:  # the same significant digits as the CSV (the model's precision)
                values = [float(format(v, f".{digits}g")) for v in col.tolist()]
            else:
                values = [format(v, f".{digits}g") for v in col.tolist()]
            if not kept.all():
                full = [None if as_json else ""] * n
                for i, v in zip(np.flatnonzero(kept).tolist(), values):
                    full[i] = v
                values = full
            texts.append(values)
        if as_json:
            yield "".join(json.dumps(dict(zip(names, row))) + "\n" for row in zip(*texts))
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if header:
            writer.writerow(names)
            header = False
        writer.writerows(zip(*texts))
        yield buffer.getvalue()


def _prediction_parquet(chunks, enc, names, n_keep: int, float_dtype):
    """``_prediction_columns``'s chunks as a Parquet file's bytes, a row group per chunk: the
    CSV's columns and values, typed. --keep columns are text as read; class labels text, or
    numbers where the training labels were (an array's: int64, or float64), as in JSON lines;
    values and probabilities float64, rounded to the CSV's significant digits (so the file holds
    the CSV's numbers exactly); null where a row was left out."""
    import numpy as np

    from .data.parquet import parquet_pieces

    digits = _digits(float_dtype)
    if enc.task == "classification":
        kind = enc.labels().dtype.kind
        label_type = "int64" if kind in "iu" else "float64" if kind == "f" else "string"
    else:
        label_type = "float64"
    types = ["string"] * n_keep + [label_type] + ["float64"] * (len(names) - n_keep - 1)

    def columns():
        for kept_columns, cols, kept in chunks:
            n = len(kept)
            null = None if kept.all() else ~kept
            out = [
                (np.array([str(v) for v in column.tolist()], dtype=object), None) for column in kept_columns
            ]
            for k, col in enumerate(cols):
                t = types[n_keep + k]
                if enc.task == "classification" and k == 0:  # labels as text, or numbers exactly
                    values = (
                        np.array([str(v) for v in col.tolist()], dtype=object)
                        if t == "string"
                        else col.astype(np.int64 if t == "int64" else np.float64)
                    )
                else:  # the CSV's text of each value, read back: its number exactly
                    values = np.array([float(format(v, f".{digits}g")) for v in col.tolist()])
                if null is not None:
                    full = np.zeros(n, dtype=values.dtype) if t != "string" else np.full(n, "", dtype=object)
                    full[kept] = values
                    values = full
                out.append((values, null))
            yield out

    return parquet_pieces(names, types, columns())


def _model_file(model) -> str:
    path = Path(model)
    return str(path / "model.npz") if path.is_dir() else str(path)


def _refuse_to_overwrite(out: str, written: str = "the predictions", **sources: str) -> None:
    """--output must not name a file the command reads (the model, the input): writing
    ``written`` would destroy it."""
    if out == "-":
        return
    target = os.path.realpath(out)
    for what, path in sources.items():
        if path != "-" and os.path.exists(path) and os.path.realpath(path) == target:
            raise NettrainError(f"--output '{out}' is the {what} file; write {written} elsewhere")


def _refuse_folder_name(out: str) -> None:
    """An error for an --output that ends with a '/': a folder's name, which would otherwise be
    written as a file of that name without the '/' ('-o new/' made a file 'new')."""
    if out.endswith(("/", os.sep)):
        raise NettrainError(f"--output '{out}' names a folder (it ends with '/'); give a file name")


def _write_file(out: str, data: bytes | Iterable[bytes]) -> None:
    """Predictions into a file: a regular (or new) file is replaced atomically; a symbolic link
    is followed and what it names replaced; a FIFO or a device (/dev/stdout) is written into,
    since it cannot be replaced. ``data`` may come in pieces (an iterable of bytes, each made
    when asked for): then a regular file is written into a temporary file piece by piece and
    replaced only once the last piece is there, so an error or an interrupt on the way leaves
    the old file (or none)."""
    import stat

    from .modelfile import write_atomic

    _refuse_folder_name(out)
    pieces = [data] if isinstance(data, bytes) else data

    def write(f) -> None:
        for piece in pieces:
            _check_signalled()
            f.write(piece)
            f.flush()  # (a FIFO's reader gets each piece as it is made)

    try:
        mode = os.stat(out).st_mode  # through links: /dev/stdout names the pipe itself
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise NettrainError(f"--output '{out}' is a folder; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        try:
            with open(out, "wb") as f:
                write(f)
        except OSError as exc:
            raise NettrainError(f"cannot write '{out}': {exc.strerror or exc}") from None
        return
    # a regular file (or a new one) is replaced atomically; through a link, what it names
    write_atomic(os.path.realpath(out) if os.path.islink(out) else out, write)


def _write_pieces(out: str, pieces: Iterator[str] | Iterator[bytes], binary: bool = False) -> None:
    """Text (or with ``binary``, bytes) made a piece at a time (one per chunk of the input) to
    stdout as each piece is made, as a Unix filter writes (rows before an error have been
    written), or into the file ``out`` (``_write_file``: all or nothing). The first piece is
    made before the file is opened."""
    first = next(pieces, b"" if binary else "")
    pieces = itertools.chain([first], pieces)
    if out != "-":
        _write_file(out, pieces if binary else (piece.encode("utf-8") for piece in pieces))
        return
    stream = sys.stdout.buffer if binary else sys.stdout  # (binary: _binary_stdout said it has one)
    for piece in pieces:
        _check_signalled()
        stream.write(piece)
        stream.flush()
        if _reader_gone(sys.stdout):  # (`| head -1`: stop now, not after the next chunk's work)
            raise BrokenPipeError


def _reader_gone(stream) -> bool:
    """Whether the pipe ``stream`` writes into has lost its reader: poll() says POLLERR for a
    pipe without one (Linux). False where that cannot be told."""
    import select

    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (AttributeError, OSError, ValueError):  # no fileno (tests), no poll (Windows)
        return False
    return any(flags & (select.POLLERR | select.POLLHUP) for _, flags in events)


def _binary_stdout(what: str, example: str):
    """stdout's binary stream, for ``what`` (NPY, Parquet, ...); an error where it has none, or
    where it is a terminal."""
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        raise NettrainError(f"stdout does not accept binary data; use --output FILE for {what}")
    if sys.stdout.isatty():  # binary bytes would only garble the terminal
        raise NettrainError(
            f"refusing to write {what} (binary) to a terminal; use --output FILE "
            f"or redirect stdout (> {example})"
        )
    return stream


def _write_bytes(out: str, data: bytes, what: str = "NPY", example: str = "predictions.npy") -> None:
    """Binary data into ``out``, or to stdout when ``out`` is '-' (never to a terminal)."""
    _check_signalled()
    if out == "-":
        stream = _binary_stdout(what, example)
        stream.write(data)
        stream.flush()
    else:
        _write_file(out, data)


# -- evaluate ---------------------------------------------------------------------------------------


@app.command(cls=_Command)
@command
def evaluate(
    model: ModelArg,
    input: Annotated[
        str, typer.Argument(help="Labelled CSV, NPY, NPZ or Parquet data, or - for stdin.", metavar="INPUT")
    ],
    json_: JsonOpt = False,
    require: Annotated[
        list[str] | None,
        typer.Option(
            "--require",
            help="Exit 1 unless this score bound holds: METRIC OP NUMBER, OP one of >=, <=, >, <, "
            "METRIC a score --json reports (accuracy, macro_f1, log_loss, roc_auc; mse, rmse, mae, r2), "
            "as in 'accuracy>=0.95' (quoted: > and < are the shell's). Repeatable: all must hold.",
            metavar="EXPR",
        ),
    ] = None,
    unknown: UnknownOpt = "error",
    importance: Annotated[
        bool,
        typer.Option(
            "--importance",
            help="Also rank the feature columns by permutation importance: the drop in accuracy "
            "(classification) or R² (regression) when a column's values are shuffled across rows; "
            "mean and std over --repeats shuffles. Holds the input in memory.",
        ),
    ] = False,
    repeats: Annotated[
        int | None,
        typer.Option("--repeats", help="Shuffles per column for --importance. [default: 5]", metavar="R"),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seeds the shuffles of --importance. [default: 0]", metavar="S"),
    ] = None,
    weighted: Annotated[
        bool,
        typer.Option(
            "--weighted",
            help="Weigh every score by the rows' weights, from the input's column that the model's "
            "data.weight named (or --weight's): weighted means, and sums of weights for counts, as "
            "scikit-learn's sample_weight. --require bounds the weighted scores.",
        ),
    ] = False,
    weight: Annotated[
        str | None,
        typer.Option(
            "--weight",
            help="The input column that holds the rows' weights (a name, or a position for a model "
            "that reads its inputs by position), in place of the model's data.weight column; for a "
            "model trained without one. Implies --weighted.",
            metavar="COLUMN",
        ),
    ] = None,
    device: RunDeviceOpt = None,
    quiet: QuietOpt = False,
):
    """Score a model on labelled data.

    Classes: accuracy, macro F1, log loss, ROC AUC (two classes), per-class
    precision/recall/F1 and a confusion matrix. Values: MSE, RMSE, MAE and R².
    With --weighted (or --weight COLUMN), every score is weighted by a column of the input.

    Exit 0 whatever the scores, unless --require bounds one: then exit 1 when a bound does not
    hold (or its score is not a number), with one 'evaluate FAILED' line each on stderr.

    Example: nettrain evaluate runs/digits/model.npz data/digits_test.csv

    In CI: nettrain evaluate MODEL test.csv --require 'accuracy>=0.95' --require 'log_loss<=0.3'

    Which columns matter: nettrain evaluate MODEL test.csv --importance --repeats 10

    Survey weights: nettrain evaluate MODEL test.csv --weighted (the model's data.weight column),
    or --weight COLUMN
    """
    from .modelfile import load_model

    _check_unknown(unknown)
    _check_importance_options(importance, repeats, seed)
    requirements = _parse_requirements(require or [])  # (before anything is read)
    if weight is not None and not weight.strip():
        raise NettrainError("--weight is empty: name the input column that holds the rows' weights")
    m = load_model(model, device=_device(device) if device else None)
    enc = m.encoding
    if enc.target is None:
        raise NettrainError("the model does not record its target column")
    _check_scores(requirements, enc)  # (the model says which scores there will be: before the data)
    if weight is None and weighted and enc.weight is None:
        raise NettrainError(
            "--weighted: the model was trained without data.weight, so it names no weight column; "
            "name the input's column with --weight COLUMN"
        )
    column = weight if weight is not None else enc.weight if weighted else None
    given = "named by --weight" if weight is not None else "the model's data.weight column, for --weighted"
    tables = _read_inputs(input, enc, need_target=True, weight=column, weight_given=given)
    ranking = None
    if importance:  # the input is read once, and held: the network runs on it 1 + R x columns times
        from .importance import permutation_importance

        tables = list(tables)
        report = m.evaluate(tables, unknown, column)
        ranking = permutation_importance(m, tables, repeats or 5, seed or 0, unknown, column)
    else:
        report = m.evaluate(tables, unknown, column)  # a chunk at a time
    left_out = report.get("rows_left_out")
    if left_out and not quiet:
        sys.stderr.write(f"Note: left out {left_out} of {report['n'] + left_out} rows with missing values\n")
    results = [(r, report.get(r.metric)) for r in requirements]
    if json_:
        if requirements:  # (without --require the object is as it always was)
            report["requirements"] = [_requirement_dict(r, value) for r, value in results]
        if ranking is not None:  # (likewise: the key only with --importance)
            report["importance"] = ranking
        from .metrics import json_ready

        sys.stdout.write(json.dumps(json_ready(report)) + "\n")
    else:
        _print_evaluation(report)
        if ranking is not None:
            _print_importance(ranking)
    failed = [(r, value) for r, value in results if not r.holds(value)]
    # (-q: a FAILED line is the verdict, like gradcheck's: it stays)
    kind = "weighted " if column is not None else ""
    for r, value in failed:
        sys.stderr.write(f"evaluate FAILED: {kind}{_score_shown(r, value)}, required {r.op} {r.number}\n")
    if failed:
        raise typer.Exit(1)
    if requirements and not quiet:
        met = ", ".join(f"{kind}{_score_shown(r, value)} {r.op} {r.number}" for r, value in results)
        sys.stderr.write(f"evaluate passed: {met}\n")


def _check_importance_options(importance: bool, repeats: int | None, seed: int | None) -> None:
    """--repeats and --seed belong to --importance; R >= 1 and S >= 0 (before anything is read)."""
    for name, value in (("--repeats", repeats), ("--seed", seed)):
        if value is not None and not importance:
            raise NettrainError(f"{name} is an option of --importance; add --importance, or leave {name} out")
    if repeats is not None and repeats < 1:
        raise NettrainError(f"--repeats must be at least 1, not {repeats}")
    if seed is not None and seed < 0:
        raise NettrainError(f"--seed must be 0 or more, not {seed}")


def _print_importance(ranking: dict) -> None:
    from rich.table import Table

    console = _stdout_console()
    metric = {"r2": "R²" if _stdout_takes("²") else "R2"}.get(ranking["metric"], ranking["metric"])
    if ranking.get("weighted"):
        metric = f"weighted {metric}"
    console.print(
        f"permutation importance: drop in {metric} (baseline {ranking['baseline']:.4f}) when a "
        f"column is shuffled, mean and std of {ranking['repeats']} shuffles (seed {ranking['seed']}):",
        soft_wrap=True,
    )
    t = Table(box=_box())
    t.add_column("column")
    t.add_column("importance", justify="right")
    t.add_column("std", justify="right")
    for c in ranking["columns"]:
        t.add_row(c["column"], f"{c['mean']:.4f}", f"{c['std']:.4f}")
    console.print(t)


def _parse_requirements(texts: list[str]) -> list:
    """Each --require expression as a metrics.Requirement; a malformed one is an error."""
    from .metrics import Requirement

    requirements = []
    for text in texts:
        try:
            requirements.append(Requirement.parse(text))
        except ValueError as exc:
            raise NettrainError(f"--require '{text}': {exc}") from None
    return requirements


#: what a score is sometimes called, for the "did you mean" of --require
_SCORE_ALIASES = {"f1": "macro_f1", "loss": "log_loss", "auc": "roc_auc", "rsquared": "r2", "r_squared": "r2"}


def _check_scores(requirements: list, enc) -> None:
    """Refuse a requirement on a score this model's evaluation does not report (accuracy of a
    regression model, ROC AUC of ten classes), naming those it does."""
    from .errors import did_you_mean
    from .metrics import score_names

    names = score_names(enc.task, len(enc.classes or []))
    other = "regression" if enc.task == "classification" else "classification"
    for r in requirements:
        if r.metric in names:
            continue
        if r.metric in score_names(other, 2):
            why = f"'{r.metric}' is a {other} score"
        elif r.metric == "roc_auc":
            why = f"'roc_auc' is for two classes, and this model has {len(enc.classes)}"
        else:
            alias = _SCORE_ALIASES.get(r.metric.lower())
            hint = f" (did you mean '{alias}'?)" if alias in names else did_you_mean(r.metric.lower(), names)
            why = f"'{r.metric}' is not a score{hint}"
        raise NettrainError(
            f"--require '{r}': {why}; this {enc.task} model's evaluation has: {', '.join(names)}"
        )


def _score_shown(r, value) -> str:
    """'accuracy 0.9289': the score with at least 4 significant digits, more where fewer would
    round it onto the other side of its bound (0.94996 is not shown as 0.95 against >= 0.95);
    'roc_auc is not a number (...)' for a score the data left undefined."""
    import math

    if value is None or math.isnan(value):
        why = " (the data holds one class only)" if r.metric == "roc_auc" and value is None else ""
        return f"{r.metric} is not a number{why}"
    for digits in range(4, 17):
        text = f"{value:.{digits}g}"
        if r.holds(float(text)) == r.holds(value):
            break
    exact = repr(value)  # (the shortest text that reads back as the value: 17 digits at most)
    return f"{r.metric} {exact if len(exact) <= len(text) else text}"


def _requirement_dict(r, value) -> dict:
    """One requirement's result for --json (a score that is not a number is null)."""
    import math

    shown = None if value is None or math.isnan(value) else value
    return {
        "require": str(r),
        "metric": r.metric,
        "op": r.op,
        "threshold": r.threshold,
        "value": shown,
        "passed": r.holds(value),
    }


#: evaluate draws the confusion matrix as a table up to this many classes: beyond it the rows
#: wrap past any terminal's width (and 1,000 classes took 16 s to draw); --json always has it
CONFUSION_MAX_CLASSES = 40


def _print_evaluation(report: dict) -> None:
    from rich.table import Table

    console = _stdout_console()
    weighted = report.get("weighted", False)
    if weighted:  # (every score below is weighted: said once, before them)
        console.print(
            f"weighted: every score weights each row by its column '{report['weight_column']}' "
            f"(sum of the weights {report['weight_sum']:.6g})",
            soft_wrap=True,
        )
    if report["task"] == "regression":
        console.print(f"{report['source']}: {report['n']} rows", soft_wrap=True)
        t = Table(box=_box())
        t.add_column("metric")
        t.add_column("value", justify="right")
        for key in ("mse", "rmse", "mae", "r2"):
            t.add_row(
                key.upper() if key != "r2" else ("R²" if _stdout_takes("²") else "R2"), f"{report[key]:.6g}"
            )
        console.print(t)
        return
    console.print(
        f"{report['source']}: {report['n']} rows, accuracy {report['accuracy']:.4f}, "
        f"macro F1 {report['macro_f1']:.4f}, log loss {report.get('log_loss', float('nan')):.4f}"
        + (f", ROC AUC {report['roc_auc']:.4f}" if report.get("roc_auc") is not None else ""),
        soft_wrap=True,
    )
    console.print(
        "per class, weighted (support: the sum of the class's weights):" if weighted else "per class:"
    )
    t = Table(box=_box())
    for col in ("class", "precision", "recall", "F1", "weighted support" if weighted else "support"):
        t.add_column(col, justify="right")
    for row in report["per_class"]:
        t.add_row(
            row["label"],
            f"{row['precision']:.4f}",
            f"{row['recall']:.4f}",
            f"{row['f1']:.4f}",
            f"{row['support']:.6g}" if weighted else str(row["support"]),
        )
    console.print(t)
    if len(report["classes"]) > CONFUSION_MAX_CLASSES:  # (a K x K table no terminal shows)
        console.print(
            f"confusion matrix: {len(report['classes'])} classes, more than the "
            f"{CONFUSION_MAX_CLASSES} drawn as a table; --json has it (confusion_matrix)",
            soft_wrap=True,
        )
        return
    console.print(
        "confusion matrix of weighted counts, the sums of the rows' weights (rows: true class, columns: "
        "predicted):"
        if weighted
        else "confusion matrix (rows: true class, columns: predicted):",
        soft_wrap=True,
    )
    cm = Table(box=_box())
    cm.add_column("true \\ pred", justify="right")
    for c in report["classes"]:
        cm.add_column(c, justify="right")
    for c, counts in zip(report["classes"], report["confusion_matrix"]):
        cm.add_row(c, *[(f"{v:.6g}" if weighted else str(v)) if v else "." for v in counts])
    console.print(cm)


# -- cv -------------------------------------------------------------------------------------------


@app.command(cls=_Command)
@command
def cv(
    config: ConfigArg,
    folds: Annotated[
        int,
        typer.Option(
            "--folds",
            "-k",
            help="How many folds (at least 2, at most the rows; stratified by class for classification).",
            metavar="K",
        ),
    ] = 5,
    set_: SetOpt = None,
    device: DeviceOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
):
    """Cross-validate a config: k networks, each trained on k-1 folds of data.train and scored
    on the fold left out.

    Each fold is trained as fit trains (data.validation and early stopping inside its training
    rows; scaling and categories fitted on them only) and scored with evaluate's scores. Prints
    a table, one row per fold, and each score's mean ± standard deviation. A data.test fraction
    is held out as fit holds it out and not used; a data.test file is not read. Writes no files.

    Example: nettrain cv configs/digits.yaml --folds 5 --set training.epochs=10
    """
    from .crossval import cross_validate, result_dict
    from .report import CVReporter

    if json_:  # a closed stdout (`>&-`) fails now, not after k trainings
        sys.stdout.write("")
    cfg = _load(config, set_, device)
    reporter = CVReporter(quiet=quiet)
    result = cross_validate(cfg, folds, reporter, stdin=sys.stdin)
    if json_:
        from .metrics import json_ready

        sys.stdout.write(json.dumps(json_ready(result_dict(result))) + "\n")
        sys.stdout.flush()
    else:
        _print_cv(result)


def _print_cv(result) -> None:
    from rich.table import Table

    console = _stdout_console()
    t = Table(box=_box())
    for col in ("fold", "trained", "validation", "scored", "epochs", *result.metrics):
        t.add_column(col, justify="right")

    def shown(v, metric: str) -> str:  # errors in the target's units: 4 significant digits
        return "-" if v is None else f"{v:.4g}" if metric in ("mse", "rmse", "mae") else f"{v:.4f}"

    for f in result.folds:
        t.add_row(
            str(f.fold),
            str(f.n_train),
            str(f.n_val),
            str(f.n_scored),
            str(f.epochs),
            *(shown(f.scores[m], m) for m in result.metrics),
        )
    console.print(t)
    pm = "±" if _stdout_takes("±") else "+/-"
    line = ", ".join(
        f"{m} {shown(result.mean[m], m)} {pm} {shown(result.std[m], m)}"
        if result.mean[m] is not None
        else f"{m} -"
        for m in result.metrics
    )
    console.print(f"mean {pm} std over {len(result.folds)} folds: {line}", soft_wrap=True)


# -- gradcheck --------------------------------------------------------------------------------------


@app.command(cls=_Command)
@command
def gradcheck(
    config: ConfigArg,
    set_: SetOpt = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Rows of data to check on.", metavar="N")] = 16,
    rtol: Annotated[
        float,
        typer.Option("--rtol", min=0.0, callback=_finite, help="Relative tolerance.", metavar="RTOL"),
    ] = 1e-5,
    atol: Annotated[
        float,
        typer.Option("--atol", min=0.0, callback=_finite, help="Absolute tolerance.", metavar="ATOL"),
    ] = 1e-8,
    worst: Annotated[
        int | None,
        typer.Option(
            "--worst",
            min=1,
            metavar="K",
            help="Also list each array's K entries that disagree most: backprop's value next to the "
            "finite difference, with their errors (failing entries first, then by relative error).",
            show_default=False,
        ),
    ] = None,
    device: RunDeviceOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
):
    """Check backpropagation against central finite differences (float64), per layer.

    Exit 0 when every gradient agrees within tolerance, 1 when one does not. The training
    step's backprop is compared with the differences, and the readable Network.backward (with
    Activation.df and Cost.delta) with the training step. With --device gpu the GPU's training
    step (its fused kernels) is the backprop checked.

    Example: nettrain gradcheck configs/seed.yaml && echo "backprop is right"

    Which entries disagree, and by how much: nettrain gradcheck configs/seed.yaml --worst 3
    """
    from .gradcheck import gradcheck_config

    cfg = _load(config, set_)
    where = _device(device) if device else None
    result = gradcheck_config(
        cfg, batch=batch, rtol=rtol, atol=atol, stdin=sys.stdin, device=where, worst=worst or 0
    )
    # (-q: a failed check's line below is the verdict, like an error: it stays)
    _show_result(result, json_, quiet, functools.partial(_print_gradcheck, worst=worst))
    if not result.passed:
        if not json_:
            failed = [p.name for p in result.params if not p.passed]
            if result.directional and not result.directional["passed"]:
                failed.append("direction")
            if failed:
                sys.stderr.write(f"gradcheck FAILED: {', '.join(failed)} disagree with finite differences\n")
            ref = result.reference
            if ref and not ref["passed"]:
                sys.stderr.write(
                    f"gradcheck FAILED: {_REFERENCE} disagrees with the training step in "
                    f"{', '.join(ref['differ'])}\n"
                )
            if result.hint:
                sys.stderr.write(f"Hint: {result.hint}\n")
        raise typer.Exit(1)


def _show_result(result, json_: bool, quiet: bool, print_table, **to_dict) -> None:
    """A gradcheck's or a trace's result: its notes on stderr (not with -q), then one JSON
    object (``result.to_dict(**to_dict)``) or its tables on stdout."""
    if not quiet:
        for note in result.notes:
            sys.stderr.write(f"Note: {note}\n")
    if json_:
        sys.stdout.write(json.dumps(result.to_dict(**to_dict)) + "\n")
    else:
        print_table(result)


#: how gradcheck names the readable backprop it holds to the training step
_REFERENCE = "Network.backward (the readable form, with Activation.df and Cost.delta)"


def _print_gradcheck(result, worst: int | None = None) -> None:
    from rich.table import Table

    console = _stdout_console()
    console.print(
        f"gradcheck: backprop (the training step) vs central differences (float64, h={result.h:g}) "
        f"on {result.source}" + (f", on {result.device}" if result.device != "cpu" else ""),
        soft_wrap=True,
    )
    t = Table(box=_box())
    for col in ("param", "shape", "checked", "max abs error", "max rel error", ""):
        t.add_column(col, justify="right" if col not in ("param", "") else "left")
    for p in result.params:
        t.add_row(
            p.name,
            "x".join(map(str, p.shape)),
            str(p.checked),
            f"{p.max_abs_error:.2e}" if p.checked else "-",
            f"{p.max_rel_error:.2e}" if p.checked else "-",
            ("ok" if p.checked else "not compared (kinks)") if p.passed else "FAIL",
        )
    if result.directional:
        d = result.directional
        t.add_row(
            "direction",
            "all",
            "1",
            f"{d['abs_error']:.2e}",
            f"{d['rel_error']:.2e}",
            "ok" if d["passed"] else "FAIL",
        )
    console.print(t)
    ref = result.reference
    if ref:
        verdict = "ok" if ref["passed"] else f"FAIL in {', '.join(ref['differ'])}"
        console.print(
            f"{_REFERENCE} vs the training step: max abs error "
            f"{ref['max_abs_error']:.2e}, max rel error {ref['max_rel_error']:.2e}   {verdict}\n",
            soft_wrap=True,
        )
    if result.worst is not None:
        _print_worst_entries(console, result, worst)
    failed = [p.name for p in result.params if not p.passed]
    if result.directional and not result.directional["passed"]:
        failed.append("direction")
    if ref and not ref["passed"]:
        failed.append("Network.backward")
    verdict = "PASS" if result.passed else f"FAIL ({', '.join(failed)})"
    if result.sampled:
        scope = "checked sampled entries" + (" + a random direction" if result.directional else "")
    else:
        scope = "checked every parameter"
    scope += f" of {result.n_params:,}"
    left_out = sum(p.left_out for p in result.params)
    if left_out:
        scope += f" but {left_out} at ReLU kinks (not comparable)"
    rounding = " + 8 eps |C| / h" if result.rounding else ""  # (a large cost: see the note)
    console.print(
        f"{verdict}: {scope}; pass when |analytic - numeric| <= "
        f"{result.atol:g} + {result.rtol:g} * max(|analytic|, |numeric|){rounding}",
        soft_wrap=True,
    )


def _print_worst_entries(console, result, k: int | None) -> None:
    """gradcheck --worst K: each array's K entries that disagree most, as the library ranked them."""
    from rich.table import Table

    how_many = f"at most {k} per array" if k else "per array"
    sampled = ", of the sampled entries (no others were compared)" if result.sampled else ""
    console.print(
        f"worst entries, {how_many}{sampled}, failing first, then by rel error (analytic: backprop; "
        "numeric: (C(w + h) - C(w - h)) / 2h; W(l)[i, j]: the weight from unit j of layer l into unit i "
        "of layer l+1, counting from 0):",
        soft_wrap=True,
    )
    t = Table(box=_box())
    for col in ("param", "index", "analytic", "numeric", "abs error", "rel error", ""):
        t.add_column(col, justify="left" if col in ("param", "index", "") else "right")
    shown = result.worst
    for n, e in enumerate(shown):
        verdict = "ok" if e.passed else "FAIL"
        if e.rows is not None:
            verdict += f" (on {e.rows} of {result.batch} rows: kink)"
        t.add_row(
            e.name,
            "[" + ", ".join(map(str, e.index)) + "]",
            f"{e.analytic:.6g}",
            f"{e.numeric:.6g}",
            f"{e.abs_error:.2e}",
            f"{e.rel_error:.2e}",
            verdict,
            end_section=n + 1 < len(shown) and shown[n + 1].name != e.name,
        )
    console.print(t)


# -- trace ------------------------------------------------------------------------------------------


#: trace prints a vector of at most this many entries, and a matrix of at most this many rows and
#: columns, in full; a larger one as its shape, norm, min, max and first entries (--json: all)
TRACE_FULL = 12
#: the entries a larger array shows
TRACE_FIRST = 6


def _is_model_source(path: Path) -> bool:
    """A model file or a run folder (else a config): a folder, a .npz name, or a zip's bytes. A
    pipe (a FIFO, `<(...)`) is not read here: the bytes read would be gone for the config's
    reader (or, for a FIFO, its writer with them)."""
    import stat

    if path.suffix.lower() == ".npz":
        return True
    try:
        if path.is_dir():
            return True
        if not stat.S_ISREG(path.stat().st_mode):
            return False  # (a model is read from a file, not a pipe)
        with open(path, "rb") as f:
            return f.read(2) == b"PK"
    except OSError:
        return False  # (the config's reader says what is wrong with it)


@app.command(cls=_Command)
@command
def trace(
    source: Annotated[
        Path,
        typer.Argument(
            help="A config (its network at the initial weights; - for stdin) or a model file / run folder "
            "(the trained weights).",
            show_default=False,
            metavar="SOURCE",
        ),
    ],
    row: Annotated[
        int,
        typer.Option(
            "--row",
            help="The example: data row N, counting from 0 after a CSV's header (the first data row is 0).",
            metavar="N",
        ),
    ] = 0,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="CSV, NPY, NPZ or Parquet file to take the row from, or - for stdin (needed for a model; "
            "default for a config: its training data). Without the target column: the forward pass only.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    digits: Annotated[
        int,
        typer.Option(
            "--digits",
            min=1,
            max=17,
            metavar="D",
            help="Significant digits of the numbers in the tables (17: every digit of a float64), "
            "enough to redo a sum by hand to the last digit printed; --json always writes them all.",
        ),
    ] = 6,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="With --json: every W(l) and dC/dW(l) in full, however large (without it, one of more "
            "than 250,000 entries is a summary: norm, min, max).",
        ),
    ] = False,
    quiet: QuietOpt = False,
):
    """Show one example going through the network: the forward pass, the cost, and
    backpropagation's deltas and gradients, in the derivation's names.

    a(1) = x (standardized as fit does), z(l+1) = W(l) a(l) + b(l), a(l+1) = f(z(l+1)), s, C(s, y);
    delta(L), delta(l) = (W(l)^T delta(l+1)) * f'(z(l)), dC/dW(l) = delta(l+1) a(l)^T,
    dC/db(l) = delta(l+1). Computed in float64 by Network.forward_cache and Network.backward.

    A config: its network at the seeded initial weights (as gradcheck builds it), on row N of its
    training data, or of --data FILE; a config without data gets a random example from its seed.
    A model: the trained weights, on row N of --data FILE, standardized by the model. Rows count
    from 0 among the data rows, the header not counted: `tail -n +2 data.csv | head` shows rows
    0 to 9. Vectors of up to 12 entries and matrices up to 12x12 are printed in full, larger ones
    as shape, norm, min, max and first entries; --json writes every vector in full and every
    W(l) and dC/dW(l) of up to 250,000 entries (all of them with --full).

    Example: nettrain trace configs/xor.yaml --row 1
    """
    from functools import partial

    from .trace import JSON_MAX_ENTRIES, trace_config, trace_model

    if full and not json_:
        raise NettrainError("--full is for --json (the tables show a large array as a summary)")
    if row < 0:
        raise NettrainError(f"--row {row}: rows count from 0 (0 is the first data row, after a CSV's header)")
    if data is not None:
        _open_input(data)
    if _is_model_source(source):
        if set_:
            raise NettrainError(f"--set changes a config, and {source} is a model: trace its config instead")
        if data is None:
            from .modelfile import load_model

            trained_on = load_model(source).meta.get("training", {}).get("data")
            hint = f" (it was trained on {trained_on})" if isinstance(trained_on, str) else ""
            raise NettrainError(f"{source} is a model: give the example's data with --data FILE{hint}")
        result = trace_model(source, data, row=row, stdin=sys.stdin)
    else:
        if str(source) == "-" and data == "-":
            raise NettrainError("the config and --data cannot both be '-': standard input is read once")
        cfg = _load(source, set_)
        result = trace_config(cfg, row=row, data=data, stdin=sys.stdin)
    result.source = "standard input" if str(source) == "-" else str(source)
    max_entries = None if full or not json_ else JSON_MAX_ENTRIES
    left_out = result.too_large(max_entries)
    if left_out:
        result.notes.append(
            f"{', '.join(left_out)}: more than {max_entries:,} entries, so the JSON has null for the "
            "value and grad and a summary (norm, min, max); --full writes them in full"
        )
    _show_result(result, json_, quiet, partial(_print_trace, digits=digits), max_entries=max_entries)


def _trace_number(v, digits: int = 6) -> str:
    """An entry of trace's arrays: ``digits`` significant digits (-0 shown as 0)."""
    return f"{float(v) + 0.0:.{digits}g}"


def _trace_value(v, digits: int = 6) -> str:
    """A feature's or label's value as read: text as written, numbers with ``digits`` digits."""
    import numpy as np

    if isinstance(v, (float, np.floating)):
        return _trace_number(v, digits)
    if isinstance(v, np.ndarray):
        return " ".join(_trace_value(e, digits) for e in v.tolist())
    return str(v)


def _trace_array(a, digits: int = 6) -> tuple[str, str]:
    """(shape, values) of one of trace's arrays: in full when small (matrix rows on lines of
    their own), else shape, norm, min, max and the first entries."""
    import numpy as np

    a = np.asarray(a, dtype=np.float64)
    shape = "x".join(map(str, a.shape))
    if max(a.shape, default=1) <= TRACE_FULL:
        rows = a.reshape(-1, a.shape[-1]) if a.ndim == 2 else a.reshape(1, -1)
        cells = [[_trace_number(v, digits) for v in r] for r in rows]
        width = max((len(c) for r in cells for c in r), default=0)
        return shape, "\n".join("  ".join(c.rjust(width) for c in r) for r in cells)
    flat = a.reshape(-1)
    first = "  ".join(_trace_number(v, digits) for v in flat[:TRACE_FIRST])
    with np.errstate(over="ignore"):  # (entries past 1e154 square to inf: the norm is inf, no warning)
        norm = np.linalg.norm(flat)
    return shape, (
        f"norm {_trace_number(norm, digits)}, min {_trace_number(flat.min(), digits)}, "
        f"max {_trace_number(flat.max(), digits)}; first: {first} ..."
    )


def _print_trace(t, digits: int = 6) -> None:
    import numpy as np
    from rich.table import Table

    console = _stdout_console(width=400)  # (off a terminal: 12 columns of a matrix stay on one line)
    L = len(t.sizes)
    if t.weights == "initial":
        weights = f"{t.source} at its initial weights (seed {t.seed})"
    else:
        weights = f"{t.source}, trained weights ({t.dtype})"
    example = t.where
    if t.data is not None:
        line = t.where[len(t.data) + 1 :] if t.where.startswith(f"{t.data}:") else ""
        example = f"row {t.row} of {t.data}" + (f" (line {line})" if line else "")
    console.print(f"trace: {weights}, in float64; {example}", soft_wrap=True)
    shown = [f"{name} = {_trace_value(v, digits)}" for name, v in zip(t.features[:TRACE_FULL], t.values)]
    more = f", ... ({len(t.features)} features)" if len(t.features) > TRACE_FULL else ""
    label = (
        f"; {t.target} = {_trace_value(t.label, digits)}"
        if t.target is not None and t.label is not None
        else ""
    )
    console.print(f"example: {', '.join(shown)}{more}{label}", soft_wrap=True)
    if t.inputs != t.features and len(t.inputs) <= TRACE_FULL:
        console.print(f"inputs (one-hot encoded): {', '.join(t.inputs)}", soft_wrap=True)

    def table(title: str) -> Table:
        tb = Table(box=_box())
        tb.add_column(title)
        tb.add_column("shape", justify="right")
        tb.add_column("values")
        return tb

    def add(tb: Table, name: str, a) -> None:
        tb.add_row(name, *_trace_array(a, digits))

    f = t.activations
    fwd = table("forward pass (Network.forward_cache)")
    if t.x_mean is not None and not (np.all(t.x_mean == 0) and np.all(t.x_scale == 1)):
        how = (", one-hot encoded" if t.inputs != t.features else "") + (
            ", missing filled" if t.filled else ""
        )
        add(fwd, f"x (as read{how})", t.x_raw)
        add(fwd, "mean (training data)", t.x_mean)
        add(fwd, "scale (training data)", t.x_scale)
        add(fwd, "a(1) = (x - mean) / scale", t.a[0])
    else:
        add(fwd, "a(1) = x", t.a[0])
    for l in range(1, L):  # W(l), b(l) take layer l to layer l+1
        add(fwd, f"W({l})", t.W[l - 1])
        add(fwd, f"b({l})", t.b[l - 1])
        add(fwd, f"z({l + 1}) = W({l}) a({l}) + b({l})", t.z[l - 1])
        name = f"a({l + 1}) = {f[l - 1]}(z({l + 1}))"
        add(fwd, f"s = {name}" if l == L - 1 else name, t.a[l])
    if t.has_target:
        add(fwd, "y (standardized)" if t.y_standardized else "y", t.y)
        fwd.add_row(f"C = {t.cost}(s, y)", "", _trace_number(t.C, digits))
    console.print(fwd)
    console.print(
        "W(l)[i, j] (row i, column j, counting from 0; net.W[l-1][i, j] in Python) is the weight from "
        "unit j of layer l into unit i of layer l+1"
        + ("; dC/dW(l) is laid out alike" if t.has_target else ""),
        soft_wrap=True,
    )
    prediction = f"prediction: {_trace_value(t.prediction, digits)}" if t.prediction is not None else ""
    if prediction:
        known = f" ({t.target} = {_trace_value(t.label, digits)})" if t.label is not None else ""
        console.print(prediction + known, soft_wrap=True)
    if not t.has_target:
        console.print("backward pass: none, without a target (no C, delta or gradients)", soft_wrap=True)
        return
    bwd = table("backward pass (Network.backward)")
    add(bwd, f"delta({L}) = dC/dz({L}) = {t.delta_rule}", t.delta[-1])
    for l in range(L - 1, 0, -1):  # dC/dW(l) from delta(l+1); then delta(l) for a hidden layer l
        add(bwd, f"dC/dW({l}) = delta({l + 1}) a({l})^T", t.dW[l - 1])
        add(bwd, f"dC/db({l}) = delta({l + 1})", t.db[l - 1])
        if l > 1:
            add(bwd, f"delta({l}) = (W({l})^T delta({l + 1})) * {f[l - 2]}'(z({l}))", t.delta[l - 2])
    console.print(bwd)
    console.print(f"delta({L}) = {t.delta_rule}: {t.delta_reason}, for one example (n = 1)", soft_wrap=True)


# -- init, info -------------------------------------------------------------------------------------


@app.command(cls=_Command)
@command
def init(quiet: QuietOpt = False):  # (every command takes -q; init has no messages to silence)
    """Print a commented starter config (YAML) to stdout.

    Example: nettrain init > my.yaml
    """
    from .config import STARTER_CONFIG

    sys.stdout.write(STARTER_CONFIG)


ModelsArg = Annotated[
    list[Path],
    typer.Argument(
        help="A model file (model.npz) or its run folder; several: one table comparing them.",
        show_default=False,
        metavar="MODEL...",
    ),
]


@app.command(cls=_Command)
@command
def info(
    models: ModelsArg,
    json_: Annotated[
        bool, typer.Option("--json", help="Write JSON to stdout (several models: one object a line).")
    ] = False,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            help="Several models: best first by this key of the training summary or config "
            "(val_loss, test_accuracy, learning_rate, ...; scores from the highest, the rest "
            "from the lowest; -KEY the other way round).",
            show_default=False,
            metavar="KEY",
        ),
    ] = None,
    quiet: QuietOpt = False,  # (no messages to silence)
):
    """Show a model's architecture, parameter count and training summary; with several models or
    run folders, one table with a row per run: the settings that differ and the results.

    Example: nettrain info runs/digits/model.npz ; nettrain info runs/*/ --sort val_loss
    """
    from .modelfile import load_model

    loaded = [(model, load_model(model)) for model in models]  # (all read before anything is printed)
    if len(loaded) > 1 or sort is not None:
        from .compare import run_row, sort_rows

        rows = [run_row(str(model), m.network, m.meta) for model, m in loaded]
        if sort is not None:
            where = {id(row): i for i, row in enumerate(rows)}
            rows = sort_rows(rows, sort)
            loaded = [loaded[where[id(row)]] for row in rows]
    if json_:
        from .metrics import json_ready

        read: dict = {}  # (the models read for warm-start chains, read once for all of them)
        for model, m in loaded:
            sys.stdout.write(json.dumps(json_ready(_info_data(model, m, read))) + "\n")
        return
    if len(loaded) > 1:
        _print_runs(rows)
        return
    model, m = loaded[0]
    _print_info(model, m, _info_data(model, m))


def _print_runs(rows: list[dict]) -> None:
    """Several runs' table: the settings all share on one line, then a row per run."""
    from rich.table import Table

    from .compare import compare_table
    from .report import one_line

    header, titles, cells = compare_table(rows, r2="R²" if _stdout_takes("²") else "R2")
    # off a terminal every run stays one line, however many columns (for grep, sort, diff)
    console = _stdout_console(width=10_000)
    if header:
        console.print(one_line(header), soft_wrap=True)
    t = Table(box=_box(), pad_edge=False)
    for i, title in enumerate(titles):
        t.add_column(title, justify="left" if i == 0 or not _numeric(cells, i) else "right")
    for line in cells:
        t.add_row(*(one_line(c) for c in line))
    console.print(t)


def _numeric(cells: list[list[str]], i: int) -> bool:
    """Whether column ``i`` holds numbers (right-aligned): '0.01', '1e-05', '3/30', '1 (best 3)',
    '0.04 s', or '-' for none."""

    def number(text: str) -> bool:
        try:
            float(text.split(" ")[0].split("/")[0].replace(",", ""))
        except ValueError:
            return text == "-"
        return True

    return all(number(c[i]) for c in cells)


def _weight_column(enc, meta: dict) -> str | None:
    """The column that weighed this run's training rows: its config's data.weight (a warm-started
    run's encoding, and the weight column in it, are those of the model it began from), else
    the encoding's (a model without a config)."""
    config = meta.get("config")
    if isinstance(config, dict) and isinstance(config.get("data"), dict):
        weight = config["data"].get("weight")
        return weight if isinstance(weight, str) else None
    return enc.weight


def _info_data(model: Path, m, read: dict | None = None) -> dict:
    """What `info --json` writes for one model (``read``: the models its warm-start chain read,
    kept for the next model's: warmstart.warm_start_chain)."""
    from .modelfile import weights_sha256
    from .warmstart import warm_start_chain

    net, enc, meta = m.network, m.encoding, m.meta
    return {
        "path": str(model),
        "sizes": net.sizes,
        "activations": net.activation_names,
        "output": net.output,
        "cost": net.cost_name,
        # network.init as the config has it (a name, or {name: normal, scale}); null for a
        # warm-started run, whose first weights were its source's, and a model without a config
        "init": _init_of(meta),
        "dtype": str(net.dtype),
        "parameters": net.n_params(),
        "weights_sha256": weights_sha256(net),  # (of the arrays as stored: compares two runs' weights)
        "task": enc.task,
        "features": enc.features,
        "excluded": enc.excluded,
        # data.weight: the training rows' sample-weight column (not an input), or null
        "weight_column": _weight_column(enc, meta),
        "columns": [c.to_dict() for c in enc.columns],
        "missing": enc.missing,
        "target": enc.target,
        "classes": enc.classes,
        "standardized": _standardization(enc, meta),
        "training": meta.get("training", {}),
        # the resolved config the run trained with (optimizer, learning rate, schedule, ...: what
        # the text's 'trained with' line summarizes), as its config.yaml; null for a model
        # written without one (save_model of a network built by hand)
        "config": meta["config"] if isinstance(meta.get("config"), dict) and meta["config"] else None,
        # the model a warm-started run began from (path, weights_sha256); null for a fresh start
        "warm_start": meta.get("warm_start"),
        # and the models that one began from in turn, as far as their files are there
        "warm_start_chain": warm_start_chain(meta, read=read),
        "nettrain_version": meta.get("nettrain_version"),
        "format_version": meta.get("format_version"),
    }


def _init_of(meta: dict):
    """The network.init a model's run drew its first weights with (info --json's ``init``)."""
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    network = config.get("network") if isinstance(config.get("network"), dict) else {}
    return None if isinstance(meta.get("warm_start"), dict) else network.get("init")


def _print_info(model: Path, m, data: dict) -> None:
    """One model's info table."""
    net, enc, meta = m.network, m.encoding, m.meta
    from rich.table import Table

    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    acts = [*net.activation_names, net.output]
    from .report import one_line

    t.add_row("model", one_line(model))
    t.add_row("layers", " -> ".join([str(net.sizes[0])] + [f"{n} {a}" for n, a in zip(net.sizes[1:], acts)]))
    t.add_row("cost", net.cost_name)
    t.add_row("parameters", f"{net.n_params():,} ({data['dtype']})")
    t.add_row("weights sha256", data["weights_sha256"])
    t.add_row(
        "task",
        enc.task + (f", {len(enc.classes)} classes: {', '.join(enc.classes[:20])}" if enc.classes else ""),
    )
    feats = ", ".join(enc.features[:8]) + (", ..." if len(enc.features) > 8 else "")
    t.add_row("features", f"{len(enc.features)}: {feats}")
    if enc.excluded:  # (data.exclude's columns, or those data.features did not name)
        left_out = ", ".join(enc.excluded[:8]) + (", ..." if len(enc.excluded) > 8 else "")
        t.add_row("left out", f"{len(enc.excluded)}: {left_out}")
    weight = data["weight_column"]
    if weight is not None:
        t.add_row("weight column", f"{weight} (data.weight: each training row's weight; not an input)")
    for c in enc.columns:
        if c.kind == "categorical":
            cats = ", ".join(c.categories[:10]) + (", ..." if len(c.categories) > 10 else "")
            t.add_row(f"  {c.name}", f"categorical, {len(c.categories)} categories: {cats}")
    t.add_row(
        "inputs",
        f"{net.sizes[0]} (after one-hot encoding)"
        if net.sizes[0] != len(enc.features)
        else str(net.sizes[0]),
    )
    t.add_row("missing values", enc.missing)
    t.add_row("target", str(enc.target))
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    tc, dc = config.get("training") or {}, config.get("data") or {}
    t.add_row("standardized", _standardized(enc, data["standardized"]))
    if tc:
        opt = tc.get("optimizer")
        opt = opt.get("name") if isinstance(opt, dict) else opt
        sched = tc.get("schedule")
        sched = sched.get("name") if isinstance(sched, dict) else sched
        settings = [f"{opt}, lr {tc.get('learning_rate')}", f"batch {tc.get('batch_size')}"]
        settings += (
            [f"{tc.get('epochs')} epochs", f"schedule {sched}"]
            if sched != "constant"
            else [f"{tc.get('epochs')} epochs"]
        )
        from .compare import _init

        # the initialisation where it is not the default (auto), as the schedule; a warm-started
        # run's first weights were its source's, so it has none
        init = _init(config, meta)
        if init is not None and init != "auto":
            settings += [f"init {init}"]
        # the regularisation a run used, where it used any (0 and null are left out)
        for key, name in (
            ("weight_decay", "weight decay"),
            ("dropout", "dropout"),
            ("input_dropout", "input dropout"),
            ("clip_norm", "clip norm"),
        ):
            value = tc.get(key)
            if isinstance(value, list):  # (one dropout rate per hidden layer)
                value = value if any(value) else None
            if value:
                also = " (biases too)" if key == "weight_decay" and tc.get("decay_biases") else ""
                settings += [f"{name} {value}{also}"]
        if tc.get("class_weight"):
            settings += [f"class weight {tc.get('class_weight')}"]
        settings += [f"seed {tc.get('seed')}"]
        if dc.get("split_seed") is not None:  # (the hold-outs drawn apart from training.seed)
            settings += [f"split seed {dc.get('split_seed')}"]
        t.add_row("trained with", ", ".join(str(s) for s in settings))
    trained_on = meta.get("training", {}).get("data") or dc.get("train")  # (older models: the config's)
    if trained_on:
        t.add_row("trained on", str(trained_on))
    warm = meta.get("warm_start")
    if isinstance(warm, dict):  # (a warm-started run: the model it began from)
        source = warm.get("path") or "a model given to fit"
        t.add_row("warm start", f"from {source} (weights sha256 {warm.get('weights_sha256')})")
        for line in _chain_lines(data["warm_start_chain"]):
            t.add_row("", one_line(line))
    if data["training"]:
        t.add_row("training", "")
    summary = {k: v for k, v in data["training"].items() if k != "data"}  # (shown above)
    for key, value in summary.items():
        if key == "loss" and "kept_epoch" in summary:
            label = f"loss (epoch {summary['kept_epoch']})"
        else:
            label = SUMMARY_NAMES.get(key, key.replace("_", " "))
            if not _stdout_takes("²"):
                label = label.replace("R²", "R2")
        if key == "train_time_s" and isinstance(value, (int, float)):
            value = f"{value:g} s"
        elif key == "samples_per_s" and isinstance(value, (int, float)):
            value = f"{value:,.0f}"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, float):
            value = f"{value:.6g}"
        t.add_row(f"  {label}", str(value))
    t.add_row("written by", f"nettrain {data['nettrain_version']} (model format {data['format_version']})")
    _stdout_console().print(t)


def _chain_lines(chain: list[dict]) -> list[str]:
    """info's lines under 'warm start' for the models beyond the first (warm_start_chain): each
    'which began from PATH (weights sha256 ...)', then 'which began from fresh weights', or why
    the chain cannot be followed further."""
    lines = []
    for k, entry in enumerate(chain):
        status = entry["status"]
        if status != "found":
            why = {
                "missing": "is no longer there",
                "replaced": "now holds other weights",
                "unreadable": "is not a readable model",
            }.get(status)
            if why:
                lines.append(f"({entry['path']} {why}: what it began from is unknown)")
            elif status == "not followed":
                lines.append(f"(not followed past {entry['path']})")
            break
        if k + 1 < len(chain):
            nxt = chain[k + 1]
            source = nxt["path"] or "a model given to fit"
            lines.append(f"which began from {source} (weights sha256 {nxt['weights_sha256']})")
        else:
            lines.append("which began from fresh weights")
    return lines


def _standardization(enc, meta: dict) -> dict:
    """What the model z-scores (info --json's ``standardized``): ``inputs``, from its run's
    data.standardize where the model records its config (the inputs of a model with only one-hot
    inputs have no statistics), else from its statistics; ``target``, from the target's statistics
    (0 and 1: left in its units), with ``target_mean`` and ``target_scale`` (one per output; null
    for a target left in its units)."""
    import numpy as np

    from .train import ARRAYS_SOURCE

    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    inputs = (config.get("data") or {}).get("standardize")
    # arrays given to fit (RunData.from_arrays, the scikit-learn estimators) are taken as they
    # are: the config's data section, standardize included, was never applied to them
    from_arrays = (meta.get("training") or {}).get("data") == ARRAYS_SOURCE
    if from_arrays or not isinstance(inputs, (bool, str)):
        inputs = bool(np.any(enc.x_mean != 0) or np.any(enc.x_scale != 1))
    target = enc.y_mean is not None and not (np.all(enc.y_mean == 0) and np.all(enc.y_scale == 1))
    return {
        "inputs": bool(inputs),
        "target": bool(target),
        "target_mean": [float(v) for v in enc.y_mean] if target else None,
        "target_scale": [float(v) for v in enc.y_scale] if target else None,
    }


def _standardized(enc, standardized: dict) -> str:
    """info's words for what the model z-scores (``_standardization``'s figures)."""
    inputs, target = standardized["inputs"], standardized["target"]
    if target:
        stats = (
            f"mean {enc.y_mean[0]:.6g}, scale {enc.y_scale[0]:.6g}" if len(enc.y_mean) == 1 else "per output"
        )
        return f"inputs and target ({stats})" if inputs else f"target ({stats})"
    if not inputs:
        return "no"
    return "inputs (the target in its units)" if enc.task == "regression" else "inputs"


#: info's words for the training summary's keys (--json keeps the keys)
SUMMARY_NAMES = {
    "epochs": "epochs run",
    "loss": "loss",
    "train_time_s": "time",
    "n_train": "training rows",
    "samples_per_s": "samples/s",
    "val_loss": "val loss",
    "val_accuracy": "val accuracy",
    "val_r2": "val R²",
    "test_loss": "test loss",
    "test_accuracy": "test accuracy",
    "test_r2": "test R²",
    "val_weighted": "val scores weighted",
    "test_weighted": "test scores weighted",
    "stopped_early": "stopped early",
    "best_epoch": "best epoch",
    "kept_epoch": "weights of epoch",
    "monitor": "early stopping on",
    "best": "best value",
    "allreduce_s": "allreduce time (s)",
}


# -- plot -------------------------------------------------------------------------------------------


@app.command(cls=_Command)
@command
def plot(
    runs: Annotated[
        list[Path],
        typer.Argument(
            help="Run folders (their history.jsonl, or newest checkpoint while training), "
            "history.jsonl files or checkpoints.",
            show_default=False,
            metavar="RUN...",
        ),
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Image file; its suffix picks the format (png, svg, pdf, ...); - writes PNG to "
            "stdout. Default: RUN/learning_curves.png for one run.",
            show_default=False,
            metavar="FILE",
        ),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="Logarithmic loss axis.")] = False,
    title: Annotated[
        str | None, typer.Option("--title", help="Title above the plot.", metavar="TEXT")
    ] = None,
    quiet: QuietOpt = False,
):
    """Draw learning curves: loss and validation loss per epoch, validation accuracy or R², and
    the learning rate when a schedule changed it. Several runs share the axes, one colour each.

    Needs matplotlib: pip install "nettrain[plot]".

    Example: nettrain plot runs/sgd runs/adam -o compare.png
    """
    from .plot import image_formats, kept_epoch, learning_curves, read_history, render

    if quiet:  # matplotlib's own warnings at import (a HOME it cannot write: 'mkdir -p failed ...,
        import logging  # Matplotlib created a temporary cache directory ...', as in a container)

        logging.getLogger("matplotlib").setLevel(logging.ERROR)
    formats = image_formats()  # (first: without matplotlib, say which extra to install)
    if out is None:
        if len(runs) > 1:
            raise NettrainError(f"{len(runs)} runs: name the image to write with --output FILE.png")
        where = runs[0] if runs[0].is_dir() else runs[0].parent
        out = str(where / "learning_curves.png")
    if out == "-" or (not Path(out).suffix and os.path.exists(out) and not os.path.isfile(out)):
        fmt = "png"  # stdout, or a FIFO or device such as /dev/stdout: no suffix to go by
    else:
        fmt = Path(out).suffix.lower().lstrip(".")
        if fmt not in formats:
            from .errors import did_you_mean

            raise NettrainError(
                f"--output '{out}': "
                + (f"'.{fmt}' is not an image format matplotlib writes" if fmt else "no suffix")
                + f"{did_you_mean(fmt, formats)}; use one of: {', '.join('.' + f for f in sorted(formats))}"
            )
    histories = [read_history(run) for run in runs]
    labels = [label for label, _ in histories]
    if len(set(labels)) < len(labels):  # runs/a/run and runs/b/run: tell them apart by path
        histories = [(str(run), records) for run, (_, records) in zip(runs, histories)]
    kept = [
        kept_epoch(run, max(r["epoch"] for r in records)) if run.is_dir() else None
        for run, (_, records) in zip(runs, histories)
    ]
    fig = learning_curves(histories, log_loss_axis=log, title=title, kept=kept)
    _write_bytes(out, render(fig, fmt), what="PNG", example="curves.png")
    if not quiet and out != "-":
        epochs = ", ".join(f"{label} {len(records)}" for label, records in histories)
        from .report import one_line

        sys.stderr.write(one_line(f"Wrote {out} (epochs: {epochs})") + "\n")


@app.command(cls=_Command)
@command
def export(
    model: ModelArg,
    out: Annotated[
        str,
        typer.Option(
            "--output", "-o", help="The file to write (model.onnx), or - for stdout.", metavar="FILE"
        ),
    ],
    format_: Annotated[
        str, typer.Option("--format", "-f", help="onnx (the only one).", show_default=True, metavar="FORMAT")
    ] = "onnx",
    dtype: Annotated[
        str,
        typer.Option(
            "--dtype",
            help="float32 or float64: the graph's input, weights and outputs.",
            show_default=True,
            metavar="float32|float64",
        ),
    ] = "float32",
    categorical: Annotated[
        str,
        typer.Option(
            "--categorical",
            help="How the graph takes a categorical column: strings (one string input (N, 1) per "
            "column, named after it) or one-hot (the caller's one-hot columns in 'input').",
            show_default=True,
            metavar="strings|one-hot",
        ),
    ] = "strings",
    unknown: Annotated[
        str | None,
        typer.Option(
            "--unknown",
            help="A category training never saw, in a string input: error (the run fails, as "
            "predict refuses it) or ignore (all zeros, as predict --unknown ignore). Default error.",
            metavar="error|ignore",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOpt = False,
):
    """Write a trained model as an ONNX graph, to run without Python or nettrain (onnxruntime,
    ONNX serving stacks, other languages).

    The graph's input 'input' (N, numeric columns) takes the numeric columns unscaled, in the
    order of the graph's metadata 'inputs', and each categorical column is a string input
    (N, 1) named after it, holding its cells as text (metadata 'categorical'; --categorical
    one-hot: the caller's one-hot columns in 'input' instead); it encodes and standardizes
    them, runs the network and gives 'prediction' (regression, in the target's units) or
    'probabilities', 'label' and 'label_index' (classification). Opset 17 (and ONNX-ML's 3
    for string inputs).

    Needs onnx: pip install "nettrain[onnx]".

    Example: nettrain export runs/digits -o digits.onnx
    """
    from .export import CATEGORICAL_INPUTS, DTYPES, OPSET, check_available, float32_rounding, onnx_bytes
    from .modelfile import load_model

    if format_.lower() != "onnx":
        from .errors import did_you_mean

        raise NettrainError(
            f"--format '{format_}' is not known{did_you_mean(format_.lower(), ['onnx'])}; one of: onnx"
        )
    if dtype not in DTYPES:
        from .errors import did_you_mean

        raise NettrainError(
            f"--dtype '{dtype}' is not known{did_you_mean(dtype, DTYPES)}; one of: float32, float64"
        )
    if categorical not in CATEGORICAL_INPUTS:
        from .errors import did_you_mean

        raise NettrainError(
            f"--categorical '{categorical}' is not known{did_you_mean(categorical, CATEGORICAL_INPUTS)}; "
            "one of: strings, one-hot"
        )
    if unknown is not None:
        _check_unknown(unknown)
        if categorical == "one-hot":
            raise NettrainError(
                "--unknown is for string inputs; with --categorical one-hot the caller encodes the "
                "categories (an unseen one: all zeros)"
            )
    if not out.strip():
        raise NettrainError("--output is empty: name the file to write (-o model.onnx), or - for stdout")
    check_available()  # (first: without onnx, say which extra to install)
    _refuse_to_overwrite(out, "the ONNX graph", model=_model_file(model))
    m = load_model(model)
    data = onnx_bytes(m, dtype, categorical=categorical, unknown=unknown or "error")
    _write_bytes(out, data, what="ONNX", example="model.onnx")
    if not quiet and dtype == "float32":
        rounded = float32_rounding(m)
        for name, largest, rounding in rounded[:3]:
            sys.stderr.write(
                f"Note: input '{name}' reaches {largest:.3g} in training, so the graph's float32 input "
                f"rounds it by up to {rounding:.2g} standard deviations (predict standardizes "
                "it in float64 first); --dtype float64 keeps it\n"
            )
        if len(rounded) > 3:
            sys.stderr.write(f"Note: and {len(rounded) - 3} more inputs alike\n")
    if not quiet and out != "-":
        from .export import string_inputs
        from .report import one_line

        enc = m.encoding
        outputs = "prediction" if enc.task == "regression" else "probabilities, label, label_index"
        strings = list(string_inputs(m)) if categorical == "strings" else []
        if strings:
            n_numeric = len(enc.inputs_numeric())
            shown = ", ".join(f"'{name}'" for name in strings[:3]) + (", ..." if len(strings) > 3 else "")
            numeric = f"{n_numeric} numeric column" + ("s" if n_numeric != 1 else "")
            kind = "string input" + ("s" if len(strings) != 1 else "")
            inputs = (f"input 'input' of {numeric}, " if n_numeric else "") + f"{kind} {shown}"
        else:
            n = m.network.sizes[0]
            inputs = f"input 'input' of {n} column" + ("s" if n != 1 else "")
        sys.stderr.write(
            one_line(
                f"Wrote {out} (ONNX opset {OPSET}, {dtype}; {inputs}, outputs {outputs}; {len(data)} bytes)"
            )
            + "\n"
        )


def main() -> None:
    """Entry point for `python -m nettrain`."""
    app(prog_name="nettrain")
