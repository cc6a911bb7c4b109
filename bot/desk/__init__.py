"""The use cases, shared by the Telegram bot, the command line and the jobs; nothing here knows Telegram.

    links.py     submit_links(services, chat, urls, submitter) -> SubmitOutcome, and processing
    digests.py   composing a digest, the runs that are due, crash-safe delivery through an outlet
    schedule.py  the pure time arithmetic of daily schedules
    feeds.py     following feeds and polling them; each new entry goes through submit_links
    watches.py   standing searches, matched against each new item once
    outbox.py    delivering feed cards, watch alerts and feed notices written to the database
"""
