"""One obvious lifecycle for both services: start components, run, stop on SIGTERM/SIGINT.

A service is a list of components (each `start()` / `stop()`) plus a main coroutine. On a
signal the main task is cancelled, then components stop in reverse order, all within the
shutdown deadline. Exit codes say what happened, so Kubernetes and a shell can tell:
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

import structlog

from common.logging import configure_logging
from common.settings import Settings, SettingsError, load_settings

log = structlog.get_logger(__name__)

EXIT_OK = 0  # stopped by a signal or finished its work
EXIT_CRASHED = 1  # an unexpected exception
EXIT_BAD_SETTINGS = 2  # a setting is invalid: fix the environment, restarting will not help
EXIT_STOP_TIMEOUT = 3  # the graceful stop overran its deadline


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def run_service(
    name: str,
    components: Sequence[Component],
    main: Callable[[], Coroutine[Any, Any, None]],
    shutdown_timeout_sec: float,
) -> int:
    """Start `components`, run `main` until it returns or a signal arrives, stop; return an exit code."""
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_requested.set)
    started: list[Component] = []
    code = EXIT_OK
    try:
        for component in components:
            await component.start()
            started.append(component)
            log.info("component_started", service=name, component=component.name)
        main_task = asyncio.create_task(main(), name=f"{name}-main")
        stop_task = asyncio.create_task(stop_requested.wait(), name=f"{name}-signal")
        done, _ = await asyncio.wait({main_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if main_task in done:
            stop_task.cancel()
            main_task.result()  # re-raises a crash of the main coroutine
        else:
            log.info("stop_requested", service=name)
            main_task.cancel()
            try:
                await asyncio.wait_for(main_task, shutdown_timeout_sec)
            except asyncio.CancelledError:
                pass
            except TimeoutError:
                log.error("stop_deadline_exceeded", service=name, stage="main")
                code = EXIT_STOP_TIMEOUT
    except SettingsError as exc:
        log.error("bad_settings", service=name, error=str(exc))
        code = EXIT_BAD_SETTINGS
    except Exception:
        log.exception("service_crashed", service=name)
        code = EXIT_CRASHED
    finally:
        code = await _stop_all(name, started, shutdown_timeout_sec, code)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("service_stopped", service=name, exit_code=code)
    return code


async def _stop_all(name: str, started: list[Component], timeout: float, code: int) -> int:
    for component in reversed(started):
        try:
            await asyncio.wait_for(component.stop(), timeout)
            log.info("component_stopped", service=name, component=component.name)
        except TimeoutError:
            log.error("stop_deadline_exceeded", service=name, component=component.name)
            code = EXIT_STOP_TIMEOUT
        except Exception:
            log.exception("component_stop_failed", service=name, component=component.name)
            code = code or EXIT_CRASHED
    return code


def exit_with(code: int) -> None:
    """Flush and exit with `code` (for console-script entry points)."""
    sys.stdout.flush()
    sys.exit(code)


ServiceParts = tuple[Sequence[Component], Callable[[], Coroutine[Any, Any, None]]]


def launch(name: str, build: Callable[[Settings], ServiceParts]) -> int:
    """Entry point of a service: settings, logging, health server, `build`, run; an exit code.

    `build` gets the validated settings and returns the components and the main coroutine.
    """
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    obs = settings.observability
    configure_logging(obs.log_level, obs.log_format)

    async def run() -> int:
        components, main = build(settings)
        return await run_service(name, components, main, obs.shutdown_timeout_sec)

    return asyncio.run(run())
