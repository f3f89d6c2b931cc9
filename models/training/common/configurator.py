# Configurator shared by the training scripts (nanoGPT's pattern): run with exec() at the end of a
# script's defaults, it applies config files (plain Python assignments) and then --key=value flags,
# keeping each default's type. Not a module to import: it rewrites the caller's globals.
#   exec(open(os.path.join(HERE, 'configurator.py')).read())
config_keys = [k for k, v in globals().items() if not k.startswith('_') and isinstance(v, (int, float, bool, str))]
for arg in sys.argv[1:]:  # config files, then --key=value
    if not arg.startswith('--'):
        path = arg if os.path.exists(arg) else os.path.join(HERE, arg)
        print(f'config file {path}')
        exec(open(path).read())
    else:
        key, val = arg[2:].split('=', 1)
        assert key in config_keys, f'unknown config key {key}'
        cur = globals()[key]
        globals()[key] = (val.lower() in ('1', 'true', 'yes')) if isinstance(cur, bool) else type(cur)(val)
config = {k: globals()[k] for k in config_keys}
