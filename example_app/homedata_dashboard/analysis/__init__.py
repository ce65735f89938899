"""Pure analyses: numpy arrays in, dataclasses of arrays out. No Flask, no files, no globals.

Times are int64 seconds of the house's wall clock (see ``tables``); days are those seconds
floor-divided by 86,400, so a day number is also a ``datetime64[D]``.
"""

DAY = 86400
