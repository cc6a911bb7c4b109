"""Imported by the worker pool's fork server (workers.WARM_UP_MODULE): warms it once, so that every
worker forked from it starts with trafilatura, readability and dateparser ready."""

from bot.pipeline.workers import warm_up

warm_up()
