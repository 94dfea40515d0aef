"""Request and response bodies of the API, one module per area.

Names follow one pattern: `ThingCreate` (what a client sends to make one), `ThingUpdate`
(the fields it may change), `ThingPublic` (what the API answers), `ThingsPublic` (a page
of them with the cursor of the next page).
"""
