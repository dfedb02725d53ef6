"""The rendering layer: log -> render plan and per-frame arrays -> RGBA frames -> encoded outputs.

Named ``rendering`` (not ``render``) so that the public function ``animsup.render`` is never
shadowed by a subpackage of the same name.
"""
