"""UN/EDIFACT: our own tokenizer for reading (speed, locations), pydifact for writing.

Modules (one job each): ``separators`` (UNA, defaults), ``charsets`` (UNB S001 decoding),
``tokenizer`` (text -> located segments, message by message), ``envelope`` (UNB/UNG/UNH/UNT/UNE/UNZ
checks), ``serialise`` (the only pydifact import), ``orders`` and ``contrl`` (writers),
``control_ref`` (the persistent interchange control reference).
"""
