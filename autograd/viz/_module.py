def draw_module(*a, **k): raise NotImplementedError
