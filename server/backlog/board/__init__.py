"""`backlog board`: a live local web page over the backlog (Starlette + uvicorn, imported only here)."""
