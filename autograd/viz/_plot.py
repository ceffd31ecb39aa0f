def plot_grad_flow(*a, **k): raise NotImplementedError
