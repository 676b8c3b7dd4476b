"""The starter library a fresh deployment shows at once: crisis lines, three
playlists described by mood and length (no recordings, no copyrighted titles:
each track is a slot to fill with music the member already trusts), an
intention worksheet, journaling prompts, breathwork, grounding and other
integration practices, and a short reading.

Installed by the data migration ``0002_starter_library`` and by
``manage.py seed_library``, both through ``install``: a post whose
``starter_key`` exists already is left alone (a moderator may have edited or
removed it), so running either again adds only what is missing.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from core import markup

TEAM = "Integration Circles team"


def _tracks(*rows: tuple[str, str, int]) -> list[dict[str, Any]]:
    return [{"title": t, "artist": a, "seconds": s} for t, a, s in rows]


STARTER: list[dict[str, Any]] = [
    # --- crisis lines (pinned, any phase) ---------------------------------------------
    {
        "key": "crisis-988",
        "kind": "crisis_line",
        "phase": "any",
        "pinned": True,
        "title": "988 Suicide & Crisis Lifeline (US)",
        "link": "https://988lifeline.org",
        "body": "Call or text **988**, or chat online. Free, confidential and open day and night, "
        "in English and Spanish.\n\nYou do not have to be suicidal to call: if things feel too heavy, "
        "that is reason enough.",
    },
    {
        "key": "crisis-fireside",
        "kind": "crisis_line",
        "phase": "any",
        "pinned": True,
        "title": "Fireside Project: psychedelic peer support (US)",
        "link": "https://firesideproject.org",
        "body": "Call or text **62-FIRESIDE** (623-473-7433). Trained peers listen during and after "
        "psychedelic experiences, including ketamine sessions and the days and weeks that follow.",
    },
    {
        "key": "crisis-text-line",
        "kind": "crisis_line",
        "phase": "any",
        "title": "Crisis Text Line",
        "link": "https://www.crisistextline.org",
        "body": "Text **HOME** to **741741** in the US, **SHOUT** to **85258** in the UK, or **HELLO** "
        "to **50808** in Ireland, to reach a trained crisis counsellor by text.",
    },
    {
        "key": "crisis-find-a-helpline",
        "kind": "crisis_line",
        "phase": "any",
        "title": "Find a helpline in your country",
        "link": "https://findahelpline.com",
        "body": "Find A Helpline lists free, confidential crisis lines in well over a hundred countries, "
        "with their hours and whether they take calls, texts or chats.",
    },
    {
        "key": "crisis-emergency",
        "kind": "crisis_line",
        "phase": "any",
        "title": "If you are in immediate danger",
        "body": "Call your local emergency number: **911** in the US and Canada, **112** across the EU, "
        "**999** in the UK. If you are with someone who is in danger, stay with them while you call.",
    },
    # --- playlists ---------------------------------------------------------------------
    {
        "key": "playlist-arriving",
        "kind": "playlist",
        "phase": "preparation",
        "title": "Arriving: an hour of calm before a session",
        "mood": "Slow and wordless, no beat: to settle the body and soften nerves. About an hour.",
        "body": "A shape for the hour before a session, not a list of songs: fill each slot with "
        "instrumental music you already know feels safe to you.\n\n"
        "- Music without words in your own language lets the mind rest.\n"
        "- Keep the volume low and use headphones if you can.\n"
        "- If a piece stirs something you do not want today, skip it: there is no wrong choice.",
        "tracks": _tracks(
            ("Landing: a long, warm drone", "Any ambient or drone artist you trust", 900),
            ("Breathing room: slow piano with space between notes", "Solo piano of your choice", 540),
            ("Water sounds or rain, no music", "A field recording you like", 600),
            ("Soft strings that rise and settle", "A calm string piece you know", 480),
            ("Humming bowls or chimes", "Sound-bath recordings", 600),
            ("Quiet: a few minutes of silence", "—", 480),
        ),
    },
    {
        "key": "playlist-bridge",
        "kind": "playlist",
        "phase": "session",
        "title": "A bridge through the session",
        "mood": "Mostly instrumental, gentle swells that always return to calm. About 90 minutes.",
        "body": "Many clinics play their own music during a session: bring this only if your clinician "
        "agrees. Music here is a bridge, not a destination: steady, warm, and never sudden.\n\n"
        "Choose pieces you have heard before, so nothing surprises you, and ask someone you trust to "
        "press play and keep the volume steady.",
        "tracks": _tracks(
            ("Opening: a slow, steady pulse", "Minimal or ambient artist of your choice", 900),
            ("Widening: strings or synthesizer pads, no lyrics", "An orchestral or ambient piece", 1200),
            ("The middle: long tones with room to drift", "Drone or sound-bath recordings", 1200),
            ("Warmth: a familiar, gentle melody", "A piece that feels like home to you", 900),
            ("Returning: soft piano or guitar", "Solo instrumental of your choice", 600),
            ("Landing: nature sounds fading to quiet", "A field recording you like", 600),
        ),
    },
    {
        "key": "playlist-landing",
        "kind": "playlist",
        "phase": "integration",
        "title": "Coming back: a soft landing for the days after",
        "mood": "Gentle and grounding, a few words allowed. About 45 minutes, for journaling or a walk.",
        "body": "For the evening after a session or the days that follow, while you write, draw or walk. "
        "Music with a little more shape than before the session helps many people feel back in their "
        "day.",
        "tracks": _tracks(
            ("Morning light: acoustic guitar", "An acoustic artist you like", 480),
            ("Walking pace: a steady, unhurried rhythm", "Instrumental of your choice", 540),
            ("A song that makes you feel at home", "Your choice", 300),
            ("Open space: ambient with birdsong", "A field recording or ambient piece", 720),
            ("Closing: something you could hum", "Your choice", 600),
        ),
    },
    # --- intention worksheet and journaling prompts -------------------------------------
    {
        "key": "worksheet-intention",
        "kind": "worksheet",
        "phase": "preparation",
        "pinned": True,
        "title": "Setting an intention",
        "body": "A few quiet minutes before a session, on your own. An intention is a focal point, not a "
        "goal to reach: something to return to if the session feels busy or hard.\n\n"
        "Your answers are yours alone: nobody else can read them, not facilitators and not "
        "moderators. Share them with your clinician only if you want to.",
        "prompts": [
            "What am I hoping for from this session, in my own words?",
            "What is weighing on me right now that I could set down for a while?",
            "If I could ask this experience one question, what would it be?",
            "What helps me feel safe? A person, a word, a memory, a breath.",
            "What would I like to remember if things feel intense?",
            "In one sentence, my intention is…",
        ],
    },
    {
        "key": "prompts-after",
        "kind": "journaling",
        "phase": "integration",
        "title": "Journaling after a session",
        "body": "Write within a day or two, before the details fade. No need for full sentences or for it "
        "to make sense yet: a few words or a voice note catch what is fresh, and later your journal "
        "shows how things have grown.",
        "prompts": [
            "What stands out, even if it makes no sense yet?",
            "What did I feel in my body, and where?",
            "Were there images, colours, sounds or words that stayed with me?",
            "What surprised me?",
            "Is there something I would like to do differently this week?",
            "What am I grateful for today?",
        ],
    },
    # --- integration practices ------------------------------------------------------------
    {
        "key": "breath-box",
        "kind": "breathwork",
        "phase": "any",
        "title": "Box breathing (4 · 4 · 4 · 4)",
        "body": "A steady rhythm for a racing mind, before a session or any time.\n\n"
        "1. Breathe in through your nose for a count of four.\n"
        "2. Hold gently for four.\n"
        "3. Breathe out slowly for four.\n"
        "4. Rest with empty lungs for four.\n\n"
        "Repeat four or five times. If holding feels uncomfortable, skip the holds and simply breathe "
        "in for four and out for four.",
    },
    {
        "key": "breath-long-exhale",
        "kind": "breathwork",
        "phase": "preparation",
        "title": "Longer out-breath (4 in, 6 out)",
        "body": "Breathing out for longer than you breathe in tells the body it is safe to slow down.\n\n"
        "Sit or lie comfortably. Breathe in through the nose for four, and out through soft lips for "
        "six, as if cooling a warm drink. Five minutes is plenty. Stop if you feel light-headed.",
    },
    {
        "key": "ground-54321",
        "kind": "meditation",
        "phase": "any",
        "title": "5-4-3-2-1 grounding",
        "body": "When thoughts spin or feelings flood, come back through the senses. Name, slowly:\n\n"
        "- **5** things you can see\n"
        "- **4** things you can touch (and touch them)\n"
        "- **3** things you can hear\n"
        "- **2** things you can smell\n"
        "- **1** thing you can taste\n\n"
        "Then feel your feet on the floor and take one long breath out.",
    },
    {
        "key": "meditation-body-scan",
        "kind": "meditation",
        "phase": "integration",
        "title": "A ten-minute body scan",
        "body": "Lie down or sit back. Bring your attention to your feet, and notice what is there: warmth, "
        "pressure, tingling, nothing at all. Move slowly up through the legs, belly, chest, hands, arms, "
        "shoulders, neck and face, a breath or two at each place.\n\n"
        "There is nothing to fix. If your mind wanders, notice where it went and come back to the last "
        "place you remember.",
    },
    {
        "key": "creative-draw",
        "kind": "creative",
        "phase": "integration",
        "title": "Draw, paint or collage the session",
        "body": "Some things are easier to show than to say. Without planning, put colour, shapes or cut-out "
        "images on a page for ten minutes: how the session felt, or one moment of it.\n\n"
        "It is not for anyone else and does not need to look like anything. Afterwards, you might write "
        "one line underneath: what do you notice?",
    },
    {
        "key": "movement-gentle",
        "kind": "movement",
        "phase": "integration",
        "title": "Gentle movement after a session",
        "body": "Once your clinician says it is safe to be up and about, a slow walk, some stretching, or "
        "swaying to a song you love helps the body catch up with the mind.\n\n"
        "- Walk without headphones for ten minutes and notice five things around you.\n"
        "- Stretch slowly: neck, shoulders, back, legs, a few breaths each.\n"
        "- Never drive until your clinician says you can.",
    },
    {
        "key": "reading-integration",
        "kind": "reading",
        "phase": "integration",
        "title": "What integration means",
        "body": "Integration is the work of bringing what surfaced in a session into ordinary life: making "
        "sense of it, keeping what helps, and letting the rest go. It happens slowly, over days and "
        "weeks, and often with others.\n\n"
        "Many people find it helps to write or record what they noticed soon after a session, to talk "
        "it over with an integration therapist or a support group like this one, and to take small "
        "steps rather than big decisions while things settle. If something from a session keeps "
        "troubling you, tell your clinician.",
    },
]


def install(resource_model, track_model, prompt_model) -> int:
    """Create each starter post whose ``starter_key`` is not stored yet (models
    passed in, so the data migration can use its historical ones).  How many
    were created."""
    now = timezone.now()
    have = set(resource_model.objects.exclude(starter_key="").values_list("starter_key", flat=True))
    made = 0
    for item in STARTER:
        if item["key"] in have:
            continue
        resource = resource_model.objects.create(
            circle=None,
            title=item["title"],
            body=item["body"],
            html=markup.render(item["body"]),
            link=item.get("link", ""),
            kind=item["kind"],
            phase=item["phase"],
            mood=item.get("mood", ""),
            author=None,
            author_label=TEAM,
            status="published",
            verdict="publish",
            suggested=False,
            pinned=item.get("pinned", False),
            created_at=now,
            updated_at=now,
            verified_at=now,
            verified_by_label=TEAM,
            starter_key=item["key"],
        )
        track_model.objects.bulk_create(
            track_model(resource=resource, position=n, link="", **t) for n, t in enumerate(item.get("tracks", []), 1)
        )
        prompt_model.objects.bulk_create(
            prompt_model(resource=resource, position=n, text=p) for n, p in enumerate(item.get("prompts", []), 1)
        )
        made += 1
    return made
