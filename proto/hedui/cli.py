def main():
    import hedui.keys, hedui.v1
    print("ok", hedui.keys.__file__)
